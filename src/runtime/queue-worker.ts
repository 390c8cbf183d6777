/**
 * Worker-thread entry: one NFQUEUE queue per worker (with --queue-balance, the kernel spreads flows
 * over the queues, so each flow stays on one worker and its session state stays in one place).
 * Messages in: {type:'reload', spec}, {type:'stats'}, {type:'stop'}.
 * Messages out: ready, error, events, stats, reloaded.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadGatewayMatcher, NoRulesError, type MatcherSpec } from './matcher-loader.js';
import { loadNfBinding, type QueueOptions } from './nf-binding.js';
import { QueueRunner } from './queue-runner.js';

export interface QueueWorkerData {
  queue: number;
  spec: MatcherSpec;
  queueOptions: QueueOptions;
}

export type WorkerRequest = { type: 'reload'; spec: MatcherSpec } | { type: 'stats' } | { type: 'stop' };

async function run(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('queue-worker.js must run in a worker thread');
  const data = workerData as QueueWorkerData;
  let runner: QueueRunner;
  try {
    const loaded = await loadGatewayMatcher(data.spec);
    runner = new QueueRunner(loadNfBinding(), data.queue, loaded, (events) => port.postMessage({ type: 'events', events }), data.queueOptions);
    runner.start();
    port.postMessage({ type: 'ready', queue: data.queue, inspector: loaded.description, rules: loaded.rules });
  } catch (err) {
    // The setting travels with a refusal of empty rules, so the gateway can point at it in the config.
    port.postMessage({ type: 'error', message: (err as Error).message, setting: err instanceof NoRulesError ? err.setting : undefined });
    return;
  }
  port.on('message', (msg: WorkerRequest) => {
    if (msg.type === 'stats') port.postMessage({ type: 'stats', stats: runner.stats() });
    else if (msg.type === 'reload') {
      loadGatewayMatcher(msg.spec).then(
        (loaded) => {
          runner.setMatcher(loaded);
          port.postMessage({ type: 'reloaded', ok: true, inspector: loaded.description });
        },
        (err: Error) => port.postMessage({ type: 'reloaded', ok: false, error: err.message }),
      );
    } else if (msg.type === 'stop') {
      runner.stop();
      port.close();
    }
  });
}

void run();
