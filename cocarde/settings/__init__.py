"""Settings, split by concern: `base` (shared), `development`, `test`, `production`.

`DJANGO_ENV` chooses the module (see `cocarde.settings_module`); everything else comes from the
environment, documented in `.env.example`.
"""
