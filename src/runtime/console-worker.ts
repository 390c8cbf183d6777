/**
 * Worker-thread entry of the console the gateway starts (HwCONSOLE_LISTEN): the console's server and its store
 * connection run here, so an analyst's query never holds up a verdict and a console that fails never takes the
 * gateway down. Messages in: stop. Out: listening, error, stopped.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ConsoleSettings } from '../console/config.js';
import { startConsole } from '../console/start.js';

export interface ConsoleWorkerData {
  settings: ConsoleSettings;
  captureDir: string | undefined;
}

async function run(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('console-worker.js must run in a worker thread');
  const data = workerData as ConsoleWorkerData;
  let started;
  try {
    started = await startConsole(data.settings, { captureDir: data.captureDir });
  } catch (err) {
    port.postMessage({ type: 'error', message: (err as Error).message });
    port.close();
    return;
  }
  port.postMessage({ type: 'listening', url: started.url, note: started.note, users: started.users });
  port.on('message', (m: { type: string }) => {
    if (m.type !== 'stop') return;
    void started
      .close()
      .catch(() => undefined)
      .then(() => {
        port.postMessage({ type: 'stopped' });
        port.close();
      });
  });
}

void run();
