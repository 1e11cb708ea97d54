// Spindle driven by the official OpenAI Node SDK (openai 6.49.0, pinned in package.json).
// Run by io.spindle.http.NodeSdkTest, which starts Spindle and a fake model and sets
// SPINDLE_BASE_URL (e.g. http://127.0.0.1:PORT/v1). The fake model answers by the request:
//   - last message from a tool            -> "The weather is <output>."
//   - a user asks about weather, tools on -> a call of get_current_weather({"location":"Paris"})
//   - anything else                       -> FIXED_ANSWER
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';

const FIXED_ANSWER = 'Hello from the fake model. Streaming works, delta by delta!';
const baseURL = process.env.SPINDLE_BASE_URL;
if (!baseURL) {
  throw new Error('SPINDLE_BASE_URL is not set: run these tests through NodeSdkTest');
}
const client = new OpenAI({ baseURL, apiKey: process.env.SPINDLE_API_KEY ?? 'unused', maxRetries: 0, timeout: 30_000 });

const weatherTool = {
  type: 'function',
  function: {
    name: 'get_current_weather',
    description: "Gets the user's current weather",
    parameters: { type: 'object', properties: { location: { type: 'string' } } },
  },
};

async function assistant(tools = []) {
  return client.beta.assistants.create({ model: 'gpt-4o', tools });
}

async function thread(text) {
  return client.beta.threads.create({ messages: [{ role: 'user', content: text }] });
}

/** The texts of the thread's assistant messages, oldest first, as stored. */
async function storedAssistantTexts(threadId) {
  const page = await client.beta.threads.messages.list(threadId, { order: 'asc' });
  return page.data
    .filter((m) => m.role === 'assistant')
    .map((m) => m.content.filter((c) => c.type === 'text').map((c) => c.text.value).join(''));
}

function texts(messages) {
  return messages.map((m) => m.content.filter((c) => c.type === 'text').map((c) => c.text.value).join(''));
}

/** Event names, each run of one delta kind written once with a star. */
function order(events) {
  const names = [];
  for (const e of events) {
    const name = e.event.endsWith('.delta') ? `${e.event}*` : e.event;
    if (!(name.endsWith('*') && names.at(-1) === name)) names.push(name);
  }
  return names;
}

test('runs.stream: finalRun, finalMessages and textDelta add up to the stored message', async () => {
  const a = await assistant();
  const t = await thread('Hello there, assistant! How are you today?');
  let deltas = '';
  let textDeltas = 0;
  const events = [];
  const stream = client.beta.threads.runs
    .stream(t.id, { assistant_id: a.id })
    .on('event', (e) => events.push(e))
    .on('textDelta', (delta) => {
      deltas += delta.value;
      textDeltas++;
    });

  const run = await stream.finalRun();
  const messages = await stream.finalMessages();

  assert.equal(run.status, 'completed');
  assert.equal(run.thread_id, t.id);
  assert.ok(run.usage && run.usage.total_tokens > 0, 'the final run carries usage');
  assert.ok(textDeltas > 1, `expected several text deltas, got ${textDeltas}`);
  assert.equal(deltas, FIXED_ANSWER);
  assert.deepEqual(texts(messages), [FIXED_ANSWER]);
  assert.deepEqual(await storedAssistantTexts(t.id), [FIXED_ANSWER]);
  assert.deepEqual(order(events), [
    'thread.run.created', 'thread.run.queued', 'thread.run.in_progress',
    'thread.run.step.created', 'thread.run.step.in_progress',
    'thread.message.created', 'thread.message.in_progress', 'thread.message.delta*',
    'thread.message.completed', 'thread.run.step.completed', 'thread.run.completed',
  ]);
  const stored = await client.beta.threads.runs.retrieve(run.id, { thread_id: t.id });
  assert.deepEqual(stored, run);
});

test('tool call round trip: runs.stream -> requires_action -> submitToolOutputsStream -> completed', async () => {
  const a = await assistant([weatherTool]);
  const t = await thread('What is the weather like right now?');
  const toolCalls = [];
  const first = client.beta.threads.runs
    .stream(t.id, { assistant_id: a.id })
    .on('toolCallDone', (call) => toolCalls.push(call));

  const waiting = await first.finalRun();

  assert.equal(waiting.status, 'requires_action');
  const required = waiting.required_action.submit_tool_outputs.tool_calls;
  assert.equal(required.length, 1);
  assert.equal(required[0].function.name, 'get_current_weather');
  assert.equal(required[0].function.arguments, '{"location":"Paris"}');
  // the helper's own accumulation of the step deltas gives the same call
  assert.equal(toolCalls.length, 1);
  assert.equal(toolCalls[0].id, required[0].id);
  assert.equal(toolCalls[0].function.name, 'get_current_weather');
  assert.equal(toolCalls[0].function.arguments, '{"location":"Paris"}');
  const steps = await client.beta.threads.runs.steps.list(waiting.id, { thread_id: t.id });
  assert.equal(steps.data[0].status, 'in_progress');

  let deltas = '';
  const second = client.beta.threads.runs
    .submitToolOutputsStream(waiting.id, {
      thread_id: t.id,
      tool_outputs: [{ tool_call_id: required[0].id, output: 'sunny, 24 °C' }],
    })
    .on('textDelta', (delta) => {
      deltas += delta.value;
    });
  const run = await second.finalRun();
  const messages = await second.finalMessages();

  assert.equal(run.status, 'completed');
  assert.equal(run.id, waiting.id);
  assert.equal(deltas, 'The weather is sunny, 24 °C.');
  assert.deepEqual(texts(messages), ['The weather is sunny, 24 °C.']);
  assert.deepEqual(await storedAssistantTexts(t.id), ['The weather is sunny, 24 °C.']);
  const after = await client.beta.threads.runs.steps.list(waiting.id, { thread_id: t.id, order: 'asc' });
  assert.deepEqual(after.data.map((s) => [s.type, s.status]), [['tool_calls', 'completed'], ['message_creation', 'completed']]);
  assert.equal(after.data[0].step_details.tool_calls[0].function.output, 'sunny, 24 °C');
});

test('createAndRunStream starts with thread.created and streams the answer', async () => {
  const a = await assistant();
  const events = [];
  const stream = client.beta.threads
    .createAndRunStream({ assistant_id: a.id, thread: { messages: [{ role: 'user', content: 'Hi!' }] } })
    .on('event', (e) => events.push(e));

  const run = await stream.finalRun();

  assert.equal(run.status, 'completed');
  assert.equal(events[0].event, 'thread.created');
  assert.equal(events[0].data.id, run.thread_id);
  assert.deepEqual(texts(await stream.finalMessages()), [FIXED_ANSWER]);
  assert.deepEqual(await storedAssistantTexts(run.thread_id), [FIXED_ANSWER]);
});

test('createAndPoll + submitToolOutputsAndPoll: the same round trip without streaming', async () => {
  const a = await assistant([weatherTool]);
  const t = await thread('Is the weather good for a walk?');

  const waiting = await client.beta.threads.runs.createAndPoll(t.id, { assistant_id: a.id }, { pollIntervalMs: 50 });

  assert.equal(waiting.status, 'requires_action');
  const call = waiting.required_action.submit_tool_outputs.tool_calls[0];
  assert.equal(call.function.name, 'get_current_weather');

  const run = await client.beta.threads.runs.submitToolOutputsAndPoll(
    waiting.id,
    { thread_id: t.id, tool_outputs: [{ tool_call_id: call.id, output: 'rainy' }] },
    { pollIntervalMs: 50 },
  );

  assert.equal(run.status, 'completed');
  assert.deepEqual(await storedAssistantTexts(t.id), ['The weather is rainy.']);
});
