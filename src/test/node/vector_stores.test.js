// Vector stores driven by the official OpenAI Node SDK (openai 6.49.0, pinned in package.json): a batch of files
// uploaded and ingested with the SDK's own polling helper, then searched.
// Run by io.spindle.http.NodeSdkTest, which starts Spindle and sets SPINDLE_BASE_URL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI, { toFile } from 'openai';

const baseURL = process.env.SPINDLE_BASE_URL;
if (!baseURL) {
  throw new Error('SPINDLE_BASE_URL is not set: run these tests through NodeSdkTest');
}
const client = new OpenAI({ baseURL, apiKey: process.env.SPINDLE_API_KEY ?? 'unused', maxRetries: 0, timeout: 60_000 });

test('fileBatches.uploadAndPoll ingests every file, then search finds the right one', async () => {
  const store = await client.vectorStores.create({ name: 'node-sdk' });
  assert.match(store.id, /^vs_[0-9a-f]{32}$/);

  const batch = await client.vectorStores.fileBatches.uploadAndPoll(store.id, {
    files: [
      await toFile(Buffer.from('Knead the dough, let it rise for an hour in a warm place, then bake it at 220 degrees.'), 'bread.txt'),
      await toFile(Buffer.from('The rocket engine burns liquid oxygen and kerosene to lift the stage into orbit.'), 'rockets.md'),
    ],
  }, { pollIntervalMs: 200 });

  assert.equal(batch.object, 'vector_store.file_batch');
  assert.equal(batch.vector_store_id, store.id);
  assert.equal(batch.status, 'completed');
  assert.deepEqual(batch.file_counts, { in_progress: 0, completed: 2, failed: 0, cancelled: 0, total: 2 });

  const files = [];
  for await (const f of client.vectorStores.fileBatches.listFiles(batch.id, { vector_store_id: store.id })) {
    files.push(f);
  }
  assert.equal(files.length, 2);
  assert.ok(files.every((f) => f.status === 'completed' && f.usage_bytes > 0));

  const page = await client.vectorStores.search(store.id, { query: 'how long should bread dough rise', max_num_results: 5 });
  const results = [];
  for await (const r of page) {
    results.push(r);
  }
  assert.ok(results.length >= 1);
  assert.equal(results[0].filename, 'bread.txt');
  assert.ok(results[0].score >= 0 && results[0].score <= 1);
  assert.match(results[0].content[0].text, /^Knead the dough/);
  assert.ok(files.some((f) => f.id === results[0].file_id));

  const retrieved = await client.vectorStores.retrieve(store.id);
  assert.equal(retrieved.status, 'completed');
  assert.equal(retrieved.file_counts.completed, 2);
  assert.ok(retrieved.last_active_at >= store.last_active_at);

  await assert.rejects(client.vectorStores.search('vs_nothere', { query: 'x' }), (e) => {
    assert.ok(e instanceof OpenAI.NotFoundError);
    assert.equal(e.error.message, "No vector store found with id 'vs_nothere'.");
    return true;
  });
});
