// Writes deploy/grafana/fslm-dashboard.json from fslm-dashboard.ts (run by scripts/gen-dashboard).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fslmDashboardJson } from './fslm-dashboard.ts';

/** Where the committed dashboard lives. */
export const DASHBOARD_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../deploy/grafana/fslm-dashboard.json');

writeFileSync(DASHBOARD_FILE, fslmDashboardJson());
console.log(DASHBOARD_FILE);
