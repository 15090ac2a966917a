// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A bounded symbol lookup in the vDSO's ELF image (see vdso.h).  The image
 * is addressed by offsets from its first byte: every structure is found by
 * an offset that is checked against the image, and against the PT_LOAD
 * segment that all dynamic-linking data must lie in, before anything at it
 * is read.  A virtual address from the image is turned into an offset
 * through that segment alone.
 */
#include <elf.h>
#include <link.h>
#include <stdbool.h>
#include <stdint.h>

#include "vdso.h"

/* This machine's ELF class, named once. */
typedef ElfW(Ehdr) elf_ehdr;
typedef ElfW(Phdr) elf_phdr;
typedef ElfW(Dyn) elf_dyn;
typedef ElfW(Sym) elf_sym;
typedef ElfW(Half) elf_half;
typedef ElfW(Verdef) elf_verdef;
typedef ElfW(Verdaux) elf_verdaux;
typedef ElfW(Addr) elf_addr;

#if defined(__x86_64__)
#define VDSO_MACHINE	EM_X86_64
#elif defined(__aarch64__)
#define VDSO_MACHINE	EM_AARCH64
#elif defined(__i386__)
#define VDSO_MACHINE	EM_386
#else
#define VDSO_MACHINE	EM_NONE		/* no image matches */
#endif

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define VDSO_DATA	ELFDATA2LSB
#else
#define VDSO_DATA	ELFDATA2MSB
#endif

#if __SIZEOF_POINTER__ == 8
#define VDSO_CLASS	ELFCLASS64
#else
#define VDSO_CLASS	ELFCLASS32
#endif

/* Where the kernel's vDSO keeps its headers: in its first page. */
#define VDSO_HEADER_LEN	4096
/* More version definitions than any vDSO has: a loop bound, not a limit. */
#define VDSO_MAX_VERDEFS 64
#define NOT_FOUND	SIZE_MAX

struct image {
	const unsigned char *base;
	size_t len;		/* readable bytes at base */
	uint64_t vaddr;		/* the PT_LOAD segment: its address, */
	size_t offset;		/* where it starts in the image, */
	size_t size;		/* and its length in the image */
};

/* [off, off + size) lies in the image, aligned for an object of @align. */
static bool in_image(const struct image *im, size_t off, size_t size,
		     size_t align)
{
	return off <= im->len && size <= im->len - off &&
	       ((uintptr_t)im->base + off) % align == 0;
}

/* The same, and inside the PT_LOAD segment. */
static bool in_load(const struct image *im, size_t off, size_t size,
		    size_t align)
{
	return off >= im->offset && off - im->offset <= im->size &&
	       size <= im->size - (off - im->offset) &&
	       in_image(im, off, size, align);
}

/* The image offset of @size bytes at address @vaddr, or NOT_FOUND. */
static size_t at(const struct image *im, uint64_t vaddr, size_t size,
		 size_t align)
{
	uint64_t rel;

	if (vaddr < im->vaddr)
		return NOT_FOUND;
	rel = vaddr - im->vaddr;
	if (rel > im->size || rel > SIZE_MAX - im->offset)
		return NOT_FOUND;
	rel += im->offset;
	return in_load(im, rel, size, align) ? rel : NOT_FOUND;
}

#define AT(im, vaddr, type, n)						\
	((n) > SIZE_MAX / sizeof(type) ? NOT_FOUND :			\
	 at(im, vaddr, (n) * sizeof(type), _Alignof(type)))
#define PTR(im, off)	((const void *)((im)->base + (off)))

struct dyn {
	size_t symtab, strtab, strsz, versym, verdef;
	uint64_t verdefnum;
	size_t nsyms;
};

/* Whether the string at @idx of the string table is @want. */
static bool str_is(const struct image *im, const struct dyn *d, uint64_t idx,
		   const char *want)
{
	const char *s;
	size_t i;

	if (idx >= d->strsz)
		return false;
	s = PTR(im, d->strtab + idx);
	for (i = 0; i < d->strsz - idx; i++) {
		if (s[i] != want[i])
			return false;
		if (!want[i])
			return true;
	}
	return false;
}

/* The ELF and program headers: find the loadable segment and DYNAMIC. */
static bool read_headers(struct image *im, uint64_t *dyn_vaddr,
			 size_t *dyn_size)
{
	const elf_ehdr *eh;
	const elf_phdr *ph;
	bool have_load = false;
	unsigned int i;
	size_t off;

	if (!in_image(im, 0, sizeof(*eh), _Alignof(elf_ehdr)))
		return false;
	eh = PTR(im, 0);
	if (eh->e_ident[EI_MAG0] != ELFMAG0 || eh->e_ident[EI_MAG1] != ELFMAG1 ||
	    eh->e_ident[EI_MAG2] != ELFMAG2 || eh->e_ident[EI_MAG3] != ELFMAG3 ||
	    eh->e_ident[EI_CLASS] != VDSO_CLASS ||
	    eh->e_ident[EI_DATA] != VDSO_DATA || eh->e_type != ET_DYN ||
	    eh->e_machine == EM_NONE || eh->e_machine != VDSO_MACHINE ||
	    eh->e_phentsize != sizeof(elf_phdr) ||
	    eh->e_phoff > SIZE_MAX ||
	    !in_image(im, eh->e_phoff, (size_t)eh->e_phnum * sizeof(*ph),
		      _Alignof(elf_phdr)))
		return false;
	*dyn_size = 0;
	for (i = 0; i < eh->e_phnum; i++) {
		off = eh->e_phoff + i * sizeof(*ph);
		ph = PTR(im, off);
		if (ph->p_type == PT_LOAD && !have_load) {
			if (!(ph->p_flags & PF_X) || ph->p_offset > SIZE_MAX ||
			    ph->p_filesz > SIZE_MAX - ph->p_offset)
				return false;
			im->vaddr = ph->p_vaddr;
			im->offset = ph->p_offset;
			im->size = ph->p_filesz;
			have_load = true;
		} else if (ph->p_type == PT_DYNAMIC) {
			*dyn_vaddr = ph->p_vaddr;
			*dyn_size = ph->p_filesz;
		}
	}
	return have_load && *dyn_size;
}

/* The symbol count, from DT_HASH's chain length. */
static bool count_hash(const struct image *im, uint64_t vaddr, size_t *n)
{
	size_t off = AT(im, vaddr, Elf32_Word, 2);

	if (off == NOT_FOUND)
		return false;
	*n = ((const Elf32_Word *)PTR(im, off))[1];
	return true;
}

/*
 * The symbol count, from DT_GNU_HASH: one past the last symbol of the
 * longest-numbered chain, whose last entry has bit 0 set.
 */
static bool count_gnu_hash(const struct image *im, uint64_t vaddr, size_t *n)
{
	const Elf32_Word *h, *buckets, *chain;
	size_t off, last = 0, i;
	uint64_t base;

	off = AT(im, vaddr, Elf32_Word, 4);
	if (off == NOT_FOUND)
		return false;
	h = PTR(im, off);
	/* nbuckets, symoffset, bloom words, bloom shift; then the arrays */
	base = vaddr + 4 * sizeof(Elf32_Word) +
	       (uint64_t)h[2] * sizeof(elf_addr);
	off = AT(im, base, Elf32_Word, h[0]);
	if (off == NOT_FOUND)
		return false;
	buckets = PTR(im, off);
	for (i = 0; i < h[0]; i++)
		if (buckets[i] > last)
			last = buckets[i];
	if (last < h[1]) {
		*n = h[1];
		return true;
	}
	base += (uint64_t)h[0] * sizeof(Elf32_Word);
	for (;;) {
		off = AT(im, base + (uint64_t)(last - h[1]) * sizeof(Elf32_Word),
			 Elf32_Word, 1);
		if (off == NOT_FOUND)
			return false;
		chain = PTR(im, off);
		if (*chain & 1)
			break;
		last++;
	}
	*n = last + 1;
	return true;
}

static bool read_dynamic(const struct image *im, uint64_t vaddr, size_t size,
			 struct dyn *d)
{
	uint64_t symtab = 0, strtab = 0, hash = 0, gnu_hash = 0, versym = 0,
		 verdef = 0;
	const elf_dyn *dyn;
	size_t off, n = size / sizeof(*dyn), i;

	off = AT(im, vaddr, elf_dyn, n);
	if (off == NOT_FOUND)
		return false;
	dyn = PTR(im, off);
	d->strsz = 0;
	d->verdefnum = 0;
	for (i = 0; i < n && dyn[i].d_tag != DT_NULL; i++) {
		switch (dyn[i].d_tag) {
		case DT_SYMTAB:
			symtab = dyn[i].d_un.d_ptr;
			break;
		case DT_STRTAB:
			strtab = dyn[i].d_un.d_ptr;
			break;
		case DT_STRSZ:
			d->strsz = dyn[i].d_un.d_val;
			break;
		case DT_SYMENT:
			if (dyn[i].d_un.d_val != sizeof(elf_sym))
				return false;
			break;
		case DT_HASH:
			hash = dyn[i].d_un.d_ptr;
			break;
		case DT_GNU_HASH:
			gnu_hash = dyn[i].d_un.d_ptr;
			break;
		case DT_VERSYM:
			versym = dyn[i].d_un.d_ptr;
			break;
		case DT_VERDEF:
			verdef = dyn[i].d_un.d_ptr;
			break;
		case DT_VERDEFNUM:
			d->verdefnum = dyn[i].d_un.d_val;
			break;
		}
	}
	if (!symtab || !strtab || !d->strsz)
		return false;
	if (hash ? !count_hash(im, hash, &d->nsyms) :
	    !gnu_hash || !count_gnu_hash(im, gnu_hash, &d->nsyms))
		return false;
	d->symtab = AT(im, symtab, elf_sym, d->nsyms);
	d->strtab = at(im, strtab, d->strsz, 1);
	if (d->symtab == NOT_FOUND || d->strtab == NOT_FOUND)
		return false;
	d->versym = NOT_FOUND;
	if (versym) {
		d->versym = AT(im, versym, elf_half, d->nsyms);
		d->verdef = verdef ? AT(im, verdef, elf_verdef, 1) : NOT_FOUND;
		if (d->versym == NOT_FOUND || d->verdef == NOT_FOUND)
			return false;
	}
	return true;
}

/* Whether version index @ndx is defined with the name @want. */
static bool version_is(const struct image *im, const struct dyn *d,
		       unsigned int ndx, const char *want)
{
	const elf_verdef *vd;
	const elf_verdaux *aux;
	size_t off = d->verdef, aux_off;
	unsigned int i;

	for (i = 0; i < d->verdefnum && i < VDSO_MAX_VERDEFS; i++) {
		if (!in_load(im, off, sizeof(*vd), _Alignof(elf_verdef)))
			return false;
		vd = PTR(im, off);
		if (vd->vd_version != VER_DEF_CURRENT)
			return false;
		if (vd->vd_ndx == ndx && !(vd->vd_flags & VER_FLG_BASE)) {
			if (vd->vd_aux > SIZE_MAX - off)
				return false;
			aux_off = off + vd->vd_aux;
			if (!in_load(im, aux_off, sizeof(*aux),
				     _Alignof(elf_verdaux)))
				return false;
			aux = PTR(im, aux_off);
			return str_is(im, d, aux->vda_name, want);
		}
		if (!vd->vd_next || vd->vd_next > SIZE_MAX - off)
			return false;
		off += vd->vd_next;
	}
	return false;
}

void *ionclock_vdso_lookup(const void *image, size_t len, const char *name,
			   const char *version)
{
	struct image im = { .base = image, .len = len ? len : VDSO_HEADER_LEN };
	const elf_sym *sym;
	uint64_t dyn_vaddr = 0;
	size_t dyn_size, i, off;
	struct dyn d = { 0 };
	const elf_half *versym;

	if (!image || !read_headers(&im, &dyn_vaddr, &dyn_size))
		return NULL;
	/* The kernel's own image: as long as its segment says. */
	if (!len)
		im.len = im.offset + im.size;
	if (!read_dynamic(&im, dyn_vaddr, dyn_size, &d))
		return NULL;
	for (i = 1; i < d.nsyms; i++) {
		sym = PTR(&im, d.symtab + i * sizeof(*sym));
		if (ELF64_ST_TYPE(sym->st_info) != STT_FUNC ||
		    (ELF64_ST_BIND(sym->st_info) != STB_GLOBAL &&
		     ELF64_ST_BIND(sym->st_info) != STB_WEAK) ||
		    sym->st_shndx == SHN_UNDEF || !str_is(&im, &d, sym->st_name, name))
			continue;
		versym = PTR(&im, d.versym);
		if (d.versym != NOT_FOUND &&
		    !version_is(&im, &d, versym[i] & 0x7fff, version))
			continue;
		off = at(&im, sym->st_value, 1, 1);
		return off == NOT_FOUND ? NULL : (void *)PTR(&im, off);
	}
	return NULL;
}
