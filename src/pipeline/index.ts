// The object pipeline: store content compressed and encrypted with both checksums, and read it back verified.
// Backup and restore code goes through these two functions for every object they store or fetch.
export { writeObject, type WriteObjectOptions } from './write-object.js';
export { fileSource } from './file-source.js';
export { readObject, type ReadObjectOptions } from './read-object.js';
export { readObjectInto } from './read-object-into.js';
export { storedObjectSchema, type StoredObject, type ExpectedChecksums } from './stored-object.js';
export { COMPRESSION_CONTEXT_KEY } from './compression-context.js';
