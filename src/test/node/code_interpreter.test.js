// code_interpreter runs driven by the official OpenAI Node SDK (openai 6.49.0, pinned in package.json): its stream
// helpers show the call, its code piece by piece as the model writes it and its logs once it ran, and rebuild the
// steps exactly as Spindle lists them.
// Run by io.spindle.http.NodeSdkTest, which starts Spindle (with the real sandbox) and a fake model and sets
// SPINDLE_BASE_URL. The fake model (NodeSdkTest.answer) calls code_interpreter with COMPUTING_CODE in small pieces
// when the user asks to compute and the tool is offered, then answers "Computed: " and the logs it reads, stripped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';

const COMPUTING_CODE = 'squares = [n * n for n in range(1, 5)]\nprint("Σ n² 😀", sum(squares))';
const COMPUTED_LOGS = 'Σ n² 😀 30\n';

const baseURL = process.env.SPINDLE_BASE_URL;
if (!baseURL) {
  throw new Error('SPINDLE_BASE_URL is not set: run these tests through NodeSdkTest');
}
const client = new OpenAI({ baseURL, apiKey: process.env.SPINDLE_API_KEY ?? 'unused', maxRetries: 0, timeout: 60_000 });

/** An output as the final step lists it, without the `index` its delta carried for the merge. */
function withoutIndex(output) {
  const { index, ...rest } = output;
  assert.equal(typeof index, 'number');
  return rest;
}

test('runs.stream: the helpers see the code_interpreter call, its code as written, its logs, and the listed steps', async () => {
  const assistant = await client.beta.assistants.create({ model: 'gpt-4o', tools: [{ type: 'code_interpreter' }] });
  const t = await client.beta.threads.create({
    messages: [{ role: 'user', content: 'Please compute the sum of the first four squares.' }],
  });
  const created = [];
  const done = [];
  const inputs = [];
  const outputs = [];
  const stream = client.beta.threads.runs
    .stream(t.id, { assistant_id: assistant.id })
    .on('toolCallCreated', (call) => created.push(structuredClone(call)))
    .on('toolCallDelta', (delta) => {
      assert.equal(delta.type, 'code_interpreter');
      assert.equal(delta.id, undefined);
      if (delta.code_interpreter.input !== undefined) {
        assert.equal(outputs.length, 0, 'code arrives before the outputs');
        inputs.push(delta.code_interpreter.input);
      }
      outputs.push(...structuredClone(delta.code_interpreter.outputs ?? []));
    })
    .on('toolCallDone', (call) => done.push(structuredClone(call)));

  const run = await stream.finalRun();
  const streamedSteps = await stream.finalRunSteps();
  const messages = await stream.finalMessages();

  assert.equal(run.status, 'completed');
  assert.equal(created.length, 1);
  assert.equal(created[0].type, 'code_interpreter');
  assert.match(created[0].id, /^call_[A-Za-z0-9]{24}$/);
  assert.deepEqual(created[0].code_interpreter, { input: '', outputs: [] });

  // the code streams in pieces (the model wrote it 3 characters of JSON at a time) that add up to it
  assert.ok(inputs.length > 10, `the code came in ${inputs.length} pieces`);
  assert.equal(inputs.join(''), COMPUTING_CODE);
  assert.deepEqual(outputs, [{ index: 0, type: 'logs', logs: COMPUTED_LOGS }]);

  assert.equal(done.length, 1);
  assert.equal(done[0].id, created[0].id);
  assert.equal(done[0].code_interpreter.input, COMPUTING_CODE);
  assert.deepEqual(done[0].code_interpreter.outputs.map(withoutIndex), [{ type: 'logs', logs: COMPUTED_LOGS }]);

  // the steps the helpers end with are the listed ones; the tool step is the call the deltas rebuilt
  const listed = await client.beta.threads.runs.steps.list(run.id, { thread_id: t.id, order: 'asc' });
  assert.deepEqual(listed.data.map((s) => [s.type, s.status]), [['tool_calls', 'completed'], ['message_creation', 'completed']]);
  // a step's expires_at is the run's deadline while the run is active, null once it ended (dossier §1.6)
  assert.ok(streamedSteps.every((s) => typeof s.expires_at === 'number'));
  assert.ok(listed.data.every((s) => s.expires_at === null));
  const withoutDeadline = (steps) => steps.map(({ expires_at, ...rest }) => rest);
  assert.deepEqual(withoutDeadline(streamedSteps), withoutDeadline(listed.data));
  const listedCall = listed.data[0].step_details.tool_calls[0];
  assert.deepEqual({ ...done[0], code_interpreter: { ...done[0].code_interpreter, outputs: done[0].code_interpreter.outputs.map(withoutIndex) } },
    { index: 0, ...listedCall });

  assert.equal(messages.length, 1);
  const stored = await client.beta.threads.messages.retrieve(messages[0].id, { thread_id: t.id });
  assert.equal(messages[0].content[0].text.value, `Computed: ${COMPUTED_LOGS.trim()}.`);
  assert.equal(messages[0].content[0].text.value, stored.content[0].text.value);
});

// NodeSdkTest.CHARTED_ANSWER: what the fake model answers once its chart code ran
const CHARTED_ANSWER = 'Here is the chart 📈 and [the data](sandbox:/mnt/data/squares.csv).';

/** A message's content as a GET shows it: without the `index` of parts and annotations the deltas carried for the merge. */
function asStored(content) {
  return content.map(({ index, ...part }) => {
    if (part.type !== 'text') return part;
    return { ...part, text: { ...part.text, annotations: part.text.annotations.map(({ index, ...a }) => a) } };
  });
}

test('runs.stream: a chart comes before the answer as an image_file part, and the link to the file it wrote is a file_path', async () => {
  const assistant = await client.beta.assistants.create({ model: 'gpt-4o', tools: [{ type: 'code_interpreter' }] });
  const t = await client.beta.threads.create({ messages: [{ role: 'user', content: 'Please chart the first four squares.' }] });
  const images = [];
  const texts = [];
  const stream = client.beta.threads.runs
    .stream(t.id, { assistant_id: assistant.id })
    .on('imageFileDone', (image) => images.push(structuredClone(image)))
    .on('textDone', (text) => texts.push(structuredClone(text)));

  const run = await stream.finalRun();
  const messages = await stream.finalMessages();

  assert.equal(run.status, 'completed');
  const steps = await client.beta.threads.runs.steps.list(run.id, { thread_id: t.id, order: 'asc' });
  const outputs = steps.data[0].step_details.tool_calls[0].code_interpreter.outputs;
  const figure = outputs.find((o) => o.type === 'image').image.file_id;
  assert.deepEqual(images, [{ file_id: figure }]);

  assert.equal(texts.length, 1);
  assert.equal(texts[0].value, CHARTED_ANSWER);
  assert.equal(texts[0].annotations.length, 1);
  const link = texts[0].annotations[0];
  assert.equal(link.type, 'file_path');
  assert.equal(link.text, 'sandbox:/mnt/data/squares.csv');
  assert.equal([...CHARTED_ANSWER].slice(link.start_index, link.end_index).join(''), link.text);

  // the linked file is the CSV the code wrote, downloadable
  const file = await client.files.retrieve(link.file_path.file_id);
  assert.equal(file.filename, 'squares.csv');
  assert.equal(file.purpose, 'assistants_output');
  assert.equal(await (await client.files.content(file.id)).text(), 'n,square\n1,1\n2,4\n3,9\n4,16\n');

  // what the helpers accumulated is the stored message
  const stored = await client.beta.threads.messages.retrieve(messages[0].id, { thread_id: t.id });
  assert.deepEqual(stored.content.map((c) => c.type), ['image_file', 'text']);
  assert.deepEqual(asStored(messages[0].content), stored.content);
});
