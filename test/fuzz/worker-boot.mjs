// Worker entry of the fuzz target: a worker thread does not inherit the parent's
// `--import tsx`, so it registers tsx's loader itself before loading worker.ts.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
