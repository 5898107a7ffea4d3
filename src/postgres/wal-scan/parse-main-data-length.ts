// Walks a record's header area (the block references and data headers after XLogRecord) to learn how long
// its main data is; the main data is the record's last bytes. Mirrors DecodeXLogRecord, including the image
// header variants, because a misread block header would land on the wrong "main data".
import { readUint16LE, readUint32LE } from './little-endian.js';
import {
  BKPBLOCK_HAS_DATA,
  BKPBLOCK_HAS_IMAGE,
  BKPBLOCK_SAME_REL,
  BKPIMAGE_HAS_HOLE,
  XLR_BLOCK_ID_DATA_LONG,
  XLR_BLOCK_ID_DATA_SHORT,
  XLR_BLOCK_ID_ORIGIN,
  XLR_BLOCK_ID_TOPLEVEL_XID,
  XLR_MAX_BLOCK_ID,
} from './wal-format.js';

/** RelFileNode (13-15) / RelFileLocator (16+): three u32 oids. */
const REL_FILE_NODE_BYTES = 12;
/** XLogRecordBlockImageHeader: length u16, hole_offset u16, bimg_info u8. */
const IMAGE_HEADER_BYTES = 5;

/**
 * Main data length, in bytes, of a record whose data (everything after the 24-byte XLogRecord header) is
 * `dataLengthBytes` long, given its first `available` bytes at `bytes[start]`. `compressedImageMask` is the
 * version's "image is compressed" bits (WalFormat). Returns -1 when the header area is malformed or runs
 * past `available` (a valid header area is under 1 KiB: 33 block references of at most 27 bytes each).
 */
export function parseMainDataLength(bytes: Uint8Array, start: number, available: number, dataLengthBytes: number, compressedImageMask: number): number {
  // `remaining` counts the record bytes after `at`, as DecodeXLogRecord does; `limit` is where our copy ends.
  const limit = start + Math.min(available, dataLengthBytes);
  let at = start;
  let payloadBytes = 0;
  let lastBlockId = -1;
  while (dataLengthBytes - (at - start) > payloadBytes) {
    if (at >= limit) return -1;
    const blockId = bytes[at++]!;
    let fieldBytes: number;
    if (blockId === XLR_BLOCK_ID_DATA_SHORT || blockId === XLR_BLOCK_ID_DATA_LONG) {
      const long = blockId === XLR_BLOCK_ID_DATA_LONG;
      if (at + (long ? 4 : 1) > limit) return -1;
      const mainDataBytes = long ? readUint32LE(bytes, at) : bytes[at]!;
      at += long ? 4 : 1;
      // By convention the main data header comes last and the payloads then fill the record exactly.
      return dataLengthBytes - (at - start) === payloadBytes + mainDataBytes ? mainDataBytes : -1;
    } else if (blockId === XLR_BLOCK_ID_ORIGIN) {
      fieldBytes = 2;
    } else if (blockId === XLR_BLOCK_ID_TOPLEVEL_XID) {
      fieldBytes = 4;
    } else if (blockId <= XLR_MAX_BLOCK_ID && blockId > lastBlockId) {
      lastBlockId = blockId;
      if (at + 3 > limit) return -1;
      const forkFlags = bytes[at]!;
      const blockDataBytes = readUint16LE(bytes, at + 1);
      at += 3;
      if ((forkFlags & BKPBLOCK_HAS_DATA) === 0 ? blockDataBytes !== 0 : blockDataBytes === 0) return -1;
      payloadBytes += blockDataBytes;
      // After the image header: its optional compress header, the RelFileNode unless SAME_REL, the BlockNumber.
      fieldBytes = 4;
      if ((forkFlags & BKPBLOCK_HAS_IMAGE) !== 0) {
        if (at + IMAGE_HEADER_BYTES > limit) return -1;
        payloadBytes += readUint16LE(bytes, at);
        const imageInfo = bytes[at + 4]!;
        at += IMAGE_HEADER_BYTES;
        // XLogRecordBlockCompressHeader (hole_length u16) follows only for a compressed image with a hole.
        if ((imageInfo & compressedImageMask) !== 0 && (imageInfo & BKPIMAGE_HAS_HOLE) !== 0) fieldBytes += 2;
      }
      if ((forkFlags & BKPBLOCK_SAME_REL) === 0) fieldBytes += REL_FILE_NODE_BYTES;
    } else {
      return -1;
    }
    if (at + fieldBytes > limit) return -1;
    at += fieldBytes;
  }
  // No main data header: the record has no main data (payloads fill the rest exactly).
  return dataLengthBytes - (at - start) === payloadBytes ? 0 : -1;
}
