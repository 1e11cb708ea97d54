// The Files API driven by the official OpenAI Node SDK (openai 6.49.0, pinned in package.json).
// Run by io.spindle.http.NodeSdkTest, which starts Spindle and sets SPINDLE_BASE_URL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import OpenAI, { toStreamingFile } from 'openai';

const baseURL = process.env.SPINDLE_BASE_URL;
if (!baseURL) {
  throw new Error('SPINDLE_BASE_URL is not set: run these tests through NodeSdkTest');
}
const client = new OpenAI({ baseURL, apiKey: process.env.SPINDLE_API_KEY ?? 'unused', maxRetries: 0, timeout: 60_000 });

/** A Node stream of `size` pseudo-random bytes made as it is read, in chunks of 64 KiB. */
function generated(size, seed) {
  let left = size;
  let state = seed;
  return new Readable({
    read() {
      if (left === 0) {
        this.push(null);
        return;
      }
      const chunk = Buffer.alloc(Math.min(65_536, left));
      for (let i = 0; i < chunk.length; i++) {
        state = (state * 1_103_515_245 + 12_345) >>> 0;
        chunk[i] = state >>> 24;
      }
      left -= chunk.length;
      this.push(chunk);
    },
  });
}

async function sha256(stream) {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { size, digest: hash.digest('hex') };
}

test('files.create from fs.createReadStream, then retrieve, list, content and delete', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spindle-node-'));
  const file = path.join(dir, 'train.jsonl');
  fs.writeFileSync(file, '{"prompt":"a","completion":"b"}\n{"prompt":"c","completion":"d"}\n');

  const created = await client.files.create({
    file: fs.createReadStream(file),
    purpose: 'fine-tune',
    expires_after: { anchor: 'created_at', seconds: 86_400 },
  });

  assert.match(created.id, /^file-[A-Za-z0-9]{22}$/);
  assert.equal(created.object, 'file');
  assert.equal(created.filename, 'train.jsonl');
  assert.equal(created.bytes, fs.statSync(file).size);
  assert.equal(created.purpose, 'fine-tune');
  assert.equal(created.status, 'processed');
  assert.equal(created.expires_at, created.created_at + 86_400);
  assert.deepEqual(await client.files.retrieve(created.id), created);

  const listed = [];
  for await (const f of client.files.list({ purpose: 'fine-tune' })) {
    listed.push(f.id);
  }
  assert.ok(listed.includes(created.id));

  const content = await client.files.content(created.id);
  assert.equal(await content.text(), fs.readFileSync(file, 'utf8'));

  const deleted = await client.files.delete(created.id);
  assert.deepEqual(deleted, { id: created.id, object: 'file', deleted: true });
  await assert.rejects(client.files.retrieve(created.id), (e) => {
    assert.ok(e instanceof OpenAI.NotFoundError);
    assert.equal(e.status, 404);
    assert.equal(e.error.message, `No such File object: ${created.id}`);
    assert.equal(e.param, 'id');
    return true;
  });
});

test('a streamed upload of 8 MB comes back byte for byte', async () => {
  const size = 8 * 1024 * 1024 + 3;
  const expected = await sha256(generated(size, 7));

  const created = await client.files.create({
    file: toStreamingFile(generated(size, 7), 'generated.bin', { type: 'application/octet-stream' }),
    purpose: 'batch',
  });

  assert.equal(created.bytes, size);
  assert.equal(created.filename, 'generated.bin');
  const content = await client.files.content(created.id);
  assert.deepEqual(await sha256(Readable.fromWeb(content.body)), expected);
});

test('assistants files are not downloadable, as on OpenAI', async () => {
  const created = await client.files.create({
    file: toStreamingFile(Readable.from([Buffer.from('for the model only')]), 'notes.txt'),
    purpose: 'assistants',
  });

  await assert.rejects(client.files.content(created.id), (e) => {
    assert.ok(e instanceof OpenAI.BadRequestError);
    assert.equal(e.error.message, 'Not allowed to download files of purpose: assistants');
    return true;
  });
});
