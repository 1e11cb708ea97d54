// file_search runs driven by the official OpenAI Node SDK (openai 6.49.0, pinned in package.json): its stream helpers
// rebuild the search call and the cited answer from the deltas exactly as Spindle stores them.
// Run by io.spindle.http.NodeSdkTest, which starts Spindle and a fake model and sets SPINDLE_BASE_URL. The fake model
// (NodeSdkTest.answer) calls file_search when the user asks and the tool is offered, then answers with
// CITING_ANSWER_START followed by the first marker of the results it reads, and a full stop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI, { toFile } from 'openai';

const CITING_ANSWER_START = 'Café crème ☕ 😀🎂 : Filip préfère le gâteau';
const MARKER = '【0:0†favorite_foods.txt】';
const ANSWER = `${CITING_ANSWER_START}${MARKER}.`;
const INCLUDE_CONTENT = 'step_details.tool_calls[*].file_search.results[*].content';
const FOODS = `The favorite food of several people:
- Summanus Ferdinand: tacos
- Tekakwitha Effie: pizza
- Filip Carola: cake
`;

const baseURL = process.env.SPINDLE_BASE_URL;
if (!baseURL) {
  throw new Error('SPINDLE_BASE_URL is not set: run these tests through NodeSdkTest');
}
const client = new OpenAI({ baseURL, apiKey: process.env.SPINDLE_API_KEY ?? 'unused', maxRetries: 0, timeout: 60_000 });

/** An uploaded file in a vector store, ingested, and an assistant with file_search over that store. */
async function library() {
  const file = await client.files.create({ file: await toFile(Buffer.from(FOODS), 'favorite_foods.txt'), purpose: 'assistants' });
  let store = await client.vectorStores.create({ name: 'foods', file_ids: [file.id] });
  const deadline = Date.now() + 60_000;
  while (store.status === 'in_progress' && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    store = await client.vectorStores.retrieve(store.id);
  }
  assert.equal(store.status, 'completed');
  const assistant = await client.beta.assistants.create({
    model: 'gpt-4o',
    tools: [{ type: 'file_search' }],
    tool_resources: { file_search: { vector_store_ids: [store.id] } },
  });
  return { file, assistant };
}

async function thread() {
  return client.beta.threads.create({ messages: [{ role: 'user', content: "Using the files, what is Filip's favorite food?" }] });
}

/** The one text part of a message: its value and annotations. */
function text(message) {
  assert.equal(message.content.length, 1);
  assert.equal(message.content[0].type, 'text');
  return message.content[0].text;
}

/** A citation as a delta carries it, without what only deltas have: the merge `index` and the empty `quote`. */
function withoutDeltaFields(annotation) {
  const { index, ...rest } = annotation;
  assert.equal(typeof index, 'number');
  const { quote, ...fileCitation } = rest.file_citation;
  assert.equal(quote, '');
  return { ...rest, file_citation: fileCitation };
}

test('runs.stream: the helpers see the file_search call, and textDelta and finalMessages rebuild the cited answer', async () => {
  const { file, assistant } = await library();
  const t = await thread();
  const created = [];
  const done = [];
  const completedSteps = [];
  let deltas = '';
  const deltaAnnotations = [];
  const stream = client.beta.threads.runs
    .stream(t.id, { assistant_id: assistant.id, include: [INCLUDE_CONTENT] })
    .on('toolCallCreated', (call) => created.push(structuredClone(call)))
    .on('toolCallDone', (call) => done.push(structuredClone(call)))
    .on('runStepDone', (step) => completedSteps.push(step))
    .on('textDelta', (delta) => {
      deltas += delta.value ?? '';
      deltaAnnotations.push(...(delta.annotations ?? []));
    });

  const run = await stream.finalRun();
  const messages = await stream.finalMessages();

  assert.equal(run.status, 'completed');
  assert.equal(created.length, 1);
  assert.equal(created[0].type, 'file_search');
  assert.match(created[0].id, /^call_[A-Za-z0-9]{24}$/);
  assert.equal(done.length, 1);
  assert.equal(done[0].id, created[0].id);
  assert.equal(done[0].type, 'file_search');

  // the results come with the completed step, their content because of `include`
  const searchStep = completedSteps.find((s) => s.step_details.type === 'tool_calls');
  const searchCall = searchStep.step_details.tool_calls[0];
  assert.equal(searchCall.id, created[0].id);
  const result = searchCall.file_search.results[0];
  assert.equal(result.file_id, file.id);
  assert.equal(result.file_name, 'favorite_foods.txt');
  assert.match(result.content[0].text, /Filip Carola: cake/);

  // one delta brings the whole marker with its annotation, at code-point indices
  assert.equal(deltas, ANSWER);
  assert.equal(deltaAnnotations.length, 1);
  const start = [...CITING_ANSWER_START].length;
  assert.equal(deltaAnnotations[0].text, MARKER);
  assert.equal(deltaAnnotations[0].start_index, start);
  assert.equal(deltaAnnotations[0].end_index, start + [...MARKER].length);
  assert.equal(deltaAnnotations[0].file_citation.file_id, file.id);

  // the message the helpers rebuilt from the deltas is the stored one
  assert.equal(messages.length, 1);
  const stored = await client.beta.threads.messages.retrieve(messages[0].id, { thread_id: t.id });
  const rebuilt = text(messages[0]);
  assert.equal(rebuilt.value, text(stored).value);
  assert.equal(rebuilt.value, ANSWER);
  assert.deepEqual(rebuilt.annotations.map(withoutDeltaFields), text(stored).annotations);
  assert.deepEqual(text(stored).annotations, [{
    type: 'file_citation', text: MARKER, start_index: start, end_index: start + [...MARKER].length,
    file_citation: { file_id: file.id },
  }]);
  const codePoints = [...text(stored).value];
  assert.equal(codePoints.slice(text(stored).annotations[0].start_index, text(stored).annotations[0].end_index).join(''), MARKER);
});

test('createAndPoll + steps.list with include: the search step shows its results with their content', async () => {
  const { file, assistant } = await library();
  const t = await thread();

  const run = await client.beta.threads.runs.createAndPoll(t.id, { assistant_id: assistant.id }, { pollIntervalMs: 50 });

  assert.equal(run.status, 'completed');
  const withContent = await client.beta.threads.runs.steps.list(run.id, { thread_id: t.id, order: 'asc', include: [INCLUDE_CONTENT] });
  assert.deepEqual(withContent.data.map((s) => [s.type, s.status]), [['tool_calls', 'completed'], ['message_creation', 'completed']]);
  const call = withContent.data[0].step_details.tool_calls[0];
  assert.equal(call.type, 'file_search');
  assert.deepEqual(call.file_search.ranking_options, { ranker: 'default_2024_08_21', score_threshold: 0 });
  assert.equal(call.file_search.results[0].file_id, file.id);
  assert.equal(call.file_search.results[0].file_name, 'favorite_foods.txt');
  assert.deepEqual(call.file_search.results[0].content.map((c) => c.type), ['text']);
  assert.match(call.file_search.results[0].content[0].text, /Filip Carola: cake/);

  const without = await client.beta.threads.runs.steps.list(run.id, { thread_id: t.id, order: 'asc' });
  assert.equal(without.data[0].step_details.tool_calls[0].file_search.results[0].content, undefined);

  const messageId = withContent.data[1].step_details.message_creation.message_id;
  const message = await client.beta.threads.messages.retrieve(messageId, { thread_id: t.id });
  assert.equal(text(message).value, ANSWER);
  assert.equal(text(message).annotations[0].file_citation.file_id, file.id);
});
