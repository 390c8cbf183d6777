/** The compile worker's script when honeywall runs from the modules of dist/ (compile-worker.ts). */
import { runCompileWorker } from './compile-worker.js';

runCompileWorker();
