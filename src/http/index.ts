export { normalizeUri, percentDecode, type UriNormalizeOptions } from './normalize.js';
export { Dechunker, HttpSession, inflatePartial, type HttpBuffers, type HttpConfig } from './session.js';
export { httpMessageLength } from './paf.js';
