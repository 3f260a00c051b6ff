#ifndef COMPARE_PNG_SHIM_H
#define COMPARE_PNG_SHIM_H
#include <png.h>
#endif
