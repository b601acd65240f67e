/**
 * The conformance driver of the blocking entry (`src/sync.ts`): a process of its own,
 * since its calls block the thread they are made on and the scripted servers of run.ts
 * must keep answering meanwhile. It reads what driver.py reads on stdin (`{stepTimeout,
 * cafile, scenarios}`), plays every scenario with driver.ts's `playScenario` against the
 * blocking module, and prints `{results}` as driver.py does.
 *
 *   node --import tsx test/conformance/driver-sync.ts < scenarios.json
 */
import { text } from 'node:stream/consumers';
import * as blocking from '../../src/sync.ts';
import { type Library, playScenario, type ScenarioResult } from './driver.ts';
import type { StepObject } from './scenario.ts';

interface Input {
  stepTimeout: number;
  cafile: string | null;
  scenarios: Array<{ name: string; steps: StepObject[] }>;
}

const input = JSON.parse(await text(process.stdin)) as Input;
blocking.setdefaulttimeout(input.stepTimeout);
const results: Record<string, ScenarioResult> = {};
for (const s of input.scenarios) {
  results[s.name] = await playScenario(s.steps, input.cafile, blocking as unknown as Library);
}
process.stdout.write(JSON.stringify({ results }));
