export { normalizeUri, percentDecode, type UriNormalizeOptions } from './normalize.js';
export { Dechunker, HttpSession, showsHttp, type HttpBuffers, type HttpConfig } from './session.js';
export { BodyInflater, inflatePartial, InflaterPool, type ContentCoding, type InflaterStatus } from './inflate.js';
export { httpMessageLength } from './paf.js';
