-- audit trail chain and guards (placeholder: filled in by the change that needs it)
SELECT 1;
