/* cli.h - shared declarations of the zhfix program (not the library). */
#ifndef ZHFIX_CLI_H
#define ZHFIX_CLI_H
#endif
