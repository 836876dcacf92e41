// The floor's goal-state answers: the captured bytes come back unchanged for the sample, and
// with each machine's own extensions, operation ids and generation otherwise.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { goalStateTemplate, goalStateText } from './goal-state-template.js';
import { operationNamed, type GoalStateAnswer } from './long-poll-fleet.js';

const SAMPLE = { extension: 'PushSample', operationId: '0b6f3c2e-5d0a-4f7e-9a43-3f1d7c1a2b11' };
const CAPTURED = JSON.stringify({
  generation: 7,
  extensions: [
    {
      name: 'PushSample',
      publisher: 'Tether.Bench',
      type: 'PushProbe',
      settings: { probe: true },
      operation: { id: SAMPLE.operationId, kind: 'install' },
    },
  ],
  configuration: { extensionsEnabled: true },
});

void test('the sample machine at its own generation gets the captured bytes back', () => {
  const template = goalStateTemplate(CAPTURED, SAMPLE.extension);
  const ops = new Map([[SAMPLE.extension, SAMPLE.operationId]]);
  assert.equal(goalStateText(template, SAMPLE, 7, ops), CAPTURED);
});

void test('a machine gets one entry per extension it was given, with its ids and generation', () => {
  const template = goalStateTemplate(CAPTURED, SAMPLE.extension);
  const ops = new Map([
    ['PushProbeNotice0', 'aaaaaaaa-0000-4000-8000-000000000001'],
    ['PushProbePoll0', 'bbbbbbbb-0000-4000-8000-000000000002'],
  ]);
  const text = goalStateText(template, SAMPLE, 12, ops);
  const answer = JSON.parse(text) as GoalStateAnswer & { configuration: unknown };
  assert.equal(answer.generation, 12);
  assert.deepEqual(
    answer.extensions.map((e) => [e.name, e.operation?.id]),
    [...ops],
  );
  assert.deepEqual(answer.configuration, { extensionsEnabled: true });
  assert.equal(operationNamed(text, 'PushProbePoll0'), 'bbbbbbbb-0000-4000-8000-000000000002');
  assert.equal(operationNamed(text, SAMPLE.extension), undefined);
  assert.ok(!text.includes(SAMPLE.operationId));
});

void test('a capture the floor cannot replay faithfully is refused', () => {
  assert.throws(
    () => goalStateTemplate(JSON.stringify(JSON.parse(CAPTURED), null, 1), SAMPLE.extension),
    /not compact JSON/,
  );
  assert.throws(() => goalStateTemplate(CAPTURED, 'Other'), /does not carry Other alone/);
  const two = JSON.parse(CAPTURED) as GoalStateAnswer;
  two.extensions.push({
    ...(two.extensions[0] as GoalStateAnswer['extensions'][number]),
    name: 'B',
  });
  assert.throws(() => goalStateTemplate(JSON.stringify(two), SAMPLE.extension), /alone/);
});
