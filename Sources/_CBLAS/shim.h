#ifndef COMPARE_CBLAS_SHIM_H
#define COMPARE_CBLAS_SHIM_H
// Debian's libopenblas-dev installs cblas.h through update-alternatives
// under /usr/include/x86_64-linux-gnu/openblas-pthread/; fall back to the plain name.
#if __has_include(<cblas.h>)
#include <cblas.h>
#elif __has_include(<x86_64-linux-gnu/cblas.h>)
#include <x86_64-linux-gnu/cblas.h>
#else
#include <openblas/cblas.h>
#endif
#endif
