#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
void srand(unsigned s){ static void (*r)(unsigned); if(!r) r=dlsym(RTLD_NEXT,"srand"); const char*e=getenv("SEED"); r(e?(unsigned)atoi(e):s); }
void srandom(unsigned s){ static void (*r)(unsigned); if(!r) r=dlsym(RTLD_NEXT,"srandom"); const char*e=getenv("SEED"); r(e?(unsigned)atoi(e):s); }
