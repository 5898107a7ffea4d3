// The code each zstd worker thread runs, kept as a CommonJS source string evaluated with `new Worker(src, {eval})`.
// Why a string: a worker *file* would be .ts under vitest and .js in dist/, and Node 20 cannot run the former;
// a string works unchanged in both. It stays tiny and typed at its boundary by zstd-worker-protocol.ts.

/**
 * Worker protocol (all messages carry `id`; the reply echoes it):
 * - `compress { input, length, output, level }`: compress `input[0, length)` into one zstd frame at the start of
 *   `output` (both SharedArrayBuffers the caller reuses once this is answered); replies `done` with its length.
 * - `decompress { session, input?, length, output, hash? }`: appends `input[0, length)` (when given, a shared block
 *   as for compress) to what the session's streaming decoder still holds, decodes into the shared `output` and
 *   replies with how much it wrote. Input left undecoded is copied into the session's own scratch buffer before the
 *   reply, so the caller may reuse `input` at once.
 *   `drained` says all input so far is consumed and flushed; when false, a later `decompress` (with or without
 *   input) gets the rest. `inFrame` says the last frame is still open (the stream would be truncated if it ended
 *   here). With `hash` on the session's first request, the session also keeps the SHA-256 of everything it decoded
 *   (read with `digest`).
 * - `hash { session, input, length }`: feed `input[0, length)` (a shared block, as for compress) to the SHA-256 of
 *   session `session`; replies `done` without output once the block may be reused. Blocks of one session are sent
 *   in order to one worker, which handles its messages in order, so the digest is that of the whole stream.
 * - `digest { session }`: replies `done` with `digest` (lowercase hex) and forgets the session.
 * - `release { session }`: forget a decompression or hash session. No reply.
 * Failures reply `failed { message }`; the worker itself survives them.
 */
export const ZSTD_WORKER_SOURCE = String.raw`
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const zstd = require(workerData.bindingPath);
const EMPTY = Buffer.alloc(0);

let cctx = null;
let cctxLevel = NaN;
const sessions = new Map();
// Decoders (with their scratch buffers) of ended sessions, reset for the next: a decoder holds a window of a few
// MB outside the heap, and this thread's heap rarely collects, so dropped ones piled up: a process reading 108 WAL
// segments two at a time peaked at 263-275 MB RSS with a new decoder per object, 187-188 MB with reuse.
const freeDecoders = [];
const MAX_FREE_DECODERS = 4;

// Forget session 'id'; its decoder, if any, is reset and kept for the next session.
function endSession(id) {
  const session = sessions.get(id);
  sessions.delete(id);
  if (session === undefined || session.dctx === undefined || freeDecoders.length >= MAX_FREE_DECODERS) return;
  try {
    session.dctx.reset(zstd.ResetDirective.sessionOnly);
    freeDecoders.push({ dctx: session.dctx, scratch: session.scratch });
  } catch {
    // A decoder that cannot be reset is left to the collector.
  }
}

function compress(msg) {
  if (cctx === null) cctx = new zstd.CCtx();
  if (msg.level !== cctxLevel) {
    cctx.setParameter(zstd.CParameter.compressionLevel, msg.level);
    cctxLevel = msg.level;
  }
  if (msg.output.byteLength < zstd.compressBound(msg.length)) throw new Error('the output block is smaller than compressBound');
  // compress2 writes a complete frame with its content size, so any zstd decoder can read it on its own.
  const written = cctx.compress2(new Uint8Array(msg.output), new Uint8Array(msg.input, 0, msg.length));
  parentPort.postMessage({ type: 'done', id: msg.id, outputLength: written });
}

// A session's undecoded input lives in its scratch buffer between requests: the shared input block goes back to
// the caller with the reply. Reused (grown rarely), so decoding leaves no garbage on this thread, whose heap barely
// grows and so rarely collects: input buffers transferred here used to pile up by the tens of MB before it did.

// Puts the undecoded input at the front of the scratch buffer, with room for 'extra' bytes after it.
function moveToScratchFront(session, extra) {
  const held = session.src.length;
  if (session.scratch.length < held + extra) {
    const grown = Buffer.allocUnsafeSlow(Math.max(held + extra, 2 * session.scratch.length));
    session.src.copy(grown, 0);
    session.scratch = grown;
  } else if (session.src.buffer !== session.scratch.buffer || session.src.byteOffset !== 0) {
    session.src.copy(session.scratch, 0); // may overlap within the scratch buffer: copy moves like memmove
  }
  session.src = session.scratch.subarray(0, held);
}

function appendInput(session, input) {
  if (session.src.length === 0) {
    session.src = input;
    return;
  }
  // Requests are pipelined: new input may arrive while output of earlier input is still undelivered.
  const held = session.src.length;
  moveToScratchFront(session, input.length);
  input.copy(session.scratch, held);
  session.src = session.scratch.subarray(0, held + input.length);
}

function keepLeftover(session) {
  if (session.src.length > 0 && session.src.buffer !== session.scratch.buffer) moveToScratchFront(session, 0);
}

function decompress(msg) {
  let session = sessions.get(msg.session);
  if (session === undefined) {
    const decoder = freeDecoders.pop() ?? { dctx: new zstd.DCtx(), scratch: EMPTY };
    session = { dctx: decoder.dctx, src: EMPTY, scratch: decoder.scratch, inFrame: false, sha256: msg.hash === true ? createHash('sha256') : null };
    sessions.set(msg.session, session);
  }
  if (msg.input !== undefined) appendInput(session, Buffer.from(msg.input, 0, msg.length));
  const out = Buffer.from(msg.output);
  let produced = 0;
  let drained = false;
  for (;;) {
    const [hint, wrote, consumed] = session.dctx.decompressStream(out.subarray(produced), session.src);
    produced += wrote;
    session.src = session.src.subarray(consumed);
    // zstd's hint is 0 exactly when a frame is complete and flushed; a call that did nothing says nothing
    // (with no input it returns the size of the next frame header, which is not "inside a frame").
    if (wrote > 0 || consumed > 0) session.inFrame = hint !== 0;
    // zstd's contract: with all input consumed and room left in the output, everything decodable is flushed.
    if (session.src.length === 0 && produced < out.length) {
      drained = true;
      break;
    }
    if (produced === out.length) break;
    if (wrote === 0 && consumed === 0) throw new Error('zstd decoder made no progress');
  }
  if (produced > 0 && session.sha256 !== null) session.sha256.update(out.subarray(0, produced));
  keepLeftover(session);
  parentPort.postMessage({ type: 'done', id: msg.id, outputLength: produced, drained, inFrame: session.inFrame });
}

function hash(msg) {
  let session = sessions.get(msg.session);
  if (session === undefined) {
    session = { sha256: createHash('sha256') };
    sessions.set(msg.session, session);
  }
  session.sha256.update(new Uint8Array(msg.input, 0, msg.length));
  parentPort.postMessage({ type: 'done', id: msg.id, outputLength: 0 });
}

function digest(msg) {
  const session = sessions.get(msg.session);
  endSession(msg.session);
  const sha256 = session === undefined || session.sha256 === null ? createHash('sha256') : session.sha256;
  parentPort.postMessage({ type: 'done', id: msg.id, outputLength: 0, digest: sha256.digest('hex') });
}

parentPort.on('message', (msg) => {
  try {
    if (msg.type === 'compress') compress(msg);
    else if (msg.type === 'hash') hash(msg);
    else if (msg.type === 'digest') digest(msg);
    else if (msg.type === 'decompress') decompress(msg);
    else if (msg.type === 'release') endSession(msg.session);
    else throw new Error('unknown zstd worker message ' + String(msg.type));
  } catch (error) {
    if (msg.type === 'decompress' || msg.type === 'hash' || msg.type === 'digest') endSession(msg.session);
    parentPort.postMessage({ type: 'failed', id: msg.id, message: error instanceof Error ? error.message : String(error) });
  }
});
`;
