"""CRM state changes, one module per concept. Other apps call these, never the views."""
