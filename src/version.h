#ifndef DANGO_VERSION_H
#define DANGO_VERSION_H
#define DANGO_VERSION "0.1.0"
#endif
