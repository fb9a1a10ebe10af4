// The stage's public API: its command, and the checker of the model artifacts it serves.
export { runStage } from './main.ts';
export { loadArtifact, MANIFEST_FILE, type Artifact } from './artifact.ts';
