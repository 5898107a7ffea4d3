// The on-disk layout of PostgreSQL WAL (13 to 17 share it): page and record header sizes, flag bits, and the
// few resource-manager codes the scanner interprets. Values come from access/xlog_internal.h, xlogrecord.h,
// xact.h and pg_control.h; a page's xlp_magic tells which server version wrote it.

/** Bytes per WAL page (XLOG_BLCKSZ); Lifeboat supports only the default build. */
export const WAL_PAGE_BYTES = 8192;
/** Records and page payloads start on 8-byte boundaries (MAXALIGN on 64-bit builds). */
export const WAL_ALIGN_BYTES = 8;
/** SizeOfXLogShortPHD: xlp_magic u16, xlp_info u16, xlp_tli u32, xlp_pageaddr u64, xlp_rem_len u32, padding. */
export const SHORT_PAGE_HEADER_BYTES = 24;
/** SizeOfXLogLongPHD: the short header plus xlp_sysid u64, xlp_seg_size u32, xlp_xlog_blcksz u32. */
export const LONG_PAGE_HEADER_BYTES = 40;
/** SizeOfXLogRecord: xl_tot_len u32, xl_xid u32, xl_prev u64, xl_info u8, xl_rmid u8, 2 pad, xl_crc u32. */
export const RECORD_HEADER_BYTES = 24;
/** offsetof(XLogRecord, xl_crc): the header bytes the record CRC covers (after the record data). */
export const RECORD_CRC_OFFSET = 20;
/** The largest xl_tot_len a reader accepts (MaxAllocSize); anything larger is garbage. */
export const MAX_RECORD_BYTES = 0x3fffffff;

/** xlp_info bits. */
export const XLP_FIRST_IS_CONTRECORD = 0x0001;
export const XLP_LONG_HEADER = 0x0002;
export const XLP_FIRST_IS_OVERWRITE_CONTRECORD = 0x0008;
/** XLP_ALL_FLAGS since the 2021 minor releases that added XLP_FIRST_IS_OVERWRITE_CONTRECORD. */
export const XLP_ALL_FLAGS = 0x000f;

/** Resource managers and record kinds the scanner interprets. */
export const RM_XLOG_ID = 0;
export const RM_XACT_ID = 1;
/** XLOG records: the high nibble of xl_info names the kind (the low one is XLR_INFO_MASK). */
export const XLOG_INFO_MASK = 0xf0;
export const XLOG_SWITCH = 0x40;
export const XLOG_RESTORE_POINT = 0x70;
/** Transaction records: XLOG_XACT_OPMASK and the four kinds that end a transaction with a timestamp. */
export const XLOG_XACT_OPMASK = 0x70;
export const XLOG_XACT_COMMIT = 0x00;
export const XLOG_XACT_ABORT = 0x20;
export const XLOG_XACT_COMMIT_PREPARED = 0x30;
export const XLOG_XACT_ABORT_PREPARED = 0x40;
/** sizeof(xl_restore_point): TimestampTz rp_time, then char rp_name[MAXFNAMELEN = 64]. */
export const RESTORE_POINT_MAIN_DATA_BYTES = 72;

/** Block ids in a record's header area (XLR_BLOCK_ID_*); 0..XLR_MAX_BLOCK_ID are block references. */
export const XLR_MAX_BLOCK_ID = 32;
export const XLR_BLOCK_ID_DATA_SHORT = 255;
export const XLR_BLOCK_ID_DATA_LONG = 254;
export const XLR_BLOCK_ID_ORIGIN = 253;
export const XLR_BLOCK_ID_TOPLEVEL_XID = 252;
/** fork_flags bits of a block reference. */
export const BKPBLOCK_HAS_IMAGE = 0x10;
export const BKPBLOCK_HAS_DATA = 0x20;
export const BKPBLOCK_SAME_REL = 0x80;
/** bimg_info bit shared by all versions; the "compressed" bits differ (see WalFormat). */
export const BKPIMAGE_HAS_HOLE = 0x01;

/** What a page's xlp_magic tells about the WAL format. */
export interface WalFormat {
  /** The xlp_magic every page of the segment carries. */
  magic: number;
  /** PostgreSQL major version that writes this magic. */
  pgMajor: number;
  /**
   * bimg_info bits meaning "the image is compressed" (a compressed image with a hole carries an extra u16):
   * BKPIMAGE_IS_COMPRESSED 0x02 up to 14; BKPIMAGE_COMPRESS_PGLZ/LZ4/ZSTD 0x04/0x08/0x10 from 15 on.
   */
  compressedImageMask: number;
}

const FORMATS: ReadonlyMap<number, WalFormat> = new Map(
  [
    { magic: 0xd106, pgMajor: 13, compressedImageMask: 0x02 },
    { magic: 0xd10d, pgMajor: 14, compressedImageMask: 0x02 },
    { magic: 0xd110, pgMajor: 15, compressedImageMask: 0x1c },
    { magic: 0xd113, pgMajor: 16, compressedImageMask: 0x1c },
    { magic: 0xd116, pgMajor: 17, compressedImageMask: 0x1c },
  ].map((format) => [format.magic, format]),
);

/** The format written with `magic`, or undefined for a magic no supported version writes (zeros, garbage, newer servers). */
export function walFormatOfMagic(magic: number): WalFormat | undefined {
  return FORMATS.get(magic);
}

/** Rounds a byte position up to the next record boundary. */
export function alignRecord(position: number): number {
  return (position + (WAL_ALIGN_BYTES - 1)) & ~(WAL_ALIGN_BYTES - 1);
}
