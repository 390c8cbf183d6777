export { normalizeUri, percentDecode, type UriNormalizeOptions } from './normalize.js';
export { Dechunker, HttpSession, inflatePartial, showsHttp, type HttpBuffers, type HttpConfig } from './session.js';
export { httpMessageLength } from './paf.js';
