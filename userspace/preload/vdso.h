/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Finding functions in the kernel's vDSO, the ELF image the kernel maps into
 * every process (getauxval(AT_SYSINFO_EHDR)).  These are the functions
 * glibc's own clock_gettime(), gettimeofday() and time() call, so the
 * drop-in can call them without asking the dynamic loader (dlsym()) for
 * libc's: see preload.c for why it must not.
 *
 * The lookup only reads memory, calls nothing and allocates nothing.  Every
 * offset, count and string in the image is checked against the image's
 * bounds before it is used, so a malformed image gives "not found", never a
 * fault.
 */
#ifndef IONCLOCK_PRELOAD_VDSO_H
#define IONCLOCK_PRELOAD_VDSO_H

#include <stddef.h>

/**
 * ionclock_vdso_lookup() - the address of a function in a vDSO image
 * @image: the image's first byte (its ELF header)
 * @len: how many bytes at @image may be read; 0 for the kernel's own vDSO,
 *	whose extent is its PT_LOAD segment's (its headers must then lie
 *	within its first 4096 bytes, where the kernel puts them)
 * @name: the symbol, e.g. "__vdso_clock_gettime"
 * @version: the version it must carry if the image has symbol versions,
 *	e.g. "LINUX_2.6"
 *
 * Return: the function's address, or NULL if the image is not a well-formed
 * ELF shared object of this machine's class or has no such function.
 */
void *ionclock_vdso_lookup(const void *image, size_t len, const char *name,
			   const char *version);

#endif /* IONCLOCK_PRELOAD_VDSO_H */
