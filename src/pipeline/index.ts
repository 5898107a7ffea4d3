// The object pipeline: store content compressed and encrypted with both checksums, and read it back verified.
export { writeObject, type WriteObjectOptions } from './write-object.js';
export { readObject, type ReadObjectOptions } from './read-object.js';
export { storedObjectSchema, type StoredObject, type ExpectedChecksums } from './stored-object.js';
export { COMPRESSION_CONTEXT_KEY } from './compression-context.js';
