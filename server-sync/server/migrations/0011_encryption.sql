-- personal data encrypted at rest (placeholder: filled in by the change that needs it)
SELECT 1;
