import { migrate } from '../db/migrate.js';

const url = process.env.DATABASE_URL;
if (!url) throw new Error('DATABASE_URL is not set (e.g. postgres://postgres@localhost:5433/callwright)');
await migrate(url);
console.log('migrations are up to date');
