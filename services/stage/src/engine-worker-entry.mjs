// Worker threads do not inherit the TypeScript loader of the main thread: register it, then start the engine thread.
import { register } from 'tsx/esm/api';

register();
await import('./engine-worker.ts');
