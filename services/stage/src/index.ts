// The stage's public API: its command, the checker of the model artifacts it serves, and its text codec
// (how a prompt is rendered and tokenized).
export { runStage } from './main.ts';
export { loadArtifact, MANIFEST_FILE, type Artifact } from './artifact.ts';
export { TextCodec } from './text-codec.ts';
