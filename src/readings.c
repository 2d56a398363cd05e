/*
 * readings.c - placeholder; filled by the pass that needs it.
 */
#include "zf.h"
