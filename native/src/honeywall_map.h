#ifndef HONEYWALL_MAP_H
#define HONEYWALL_MAP_H
#include <node_api.h>
/* mapFile(path) -> ArrayBuffer over a private mapping of a regular file (honeywall_map.c). */
napi_value honeywall_map_file_js(napi_env env, napi_callback_info info);
#endif
