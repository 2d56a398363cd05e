#include "zf.h"
