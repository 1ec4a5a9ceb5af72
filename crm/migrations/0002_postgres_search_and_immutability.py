"""PostgreSQL only: trigram indexes for accent-insensitive search over millions of people, and
the database itself refusing to change or delete consent texts (they are proof)."""

from django.db import migrations

CREATE = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX IF NOT EXISTS crm_person_search_trgm
    ON crm_person USING gin (search_text gin_trgm_ops);
CREATE OR REPLACE FUNCTION crm_consenttext_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'consent texts are immutable: create a new version';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER crm_consenttext_immutable
    BEFORE UPDATE OR DELETE ON crm_consenttext
    FOR EACH ROW EXECUTE FUNCTION crm_consenttext_immutable();
"""
DROP = """
DROP TRIGGER IF EXISTS crm_consenttext_immutable ON crm_consenttext;
DROP FUNCTION IF EXISTS crm_consenttext_immutable();
DROP INDEX IF EXISTS crm_person_search_trgm;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("crm", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
