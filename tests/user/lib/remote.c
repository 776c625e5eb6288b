/* Threads in another address space (remote.h). */
#include <mica/elf.h>
#include <mica/layout.h>
#include <mica/memory.h>
#include "remote.h"

long remote_prepare(const struct mica_bootinfo *bi, mica_handle_t self, mica_handle_t as,
                    uint64_t stack_frame, uint64_t scratch)
{
	const struct mica_bootinfo_module *m = &bi->module[0];
	long r;

	if (bi->nmodules < 1 || !(m->flags & MICA_MODULE_IN_POOL))
		return MICA_EINVAL;
	/* The ELF header and program headers are in the module's first page. */
	if ((r = mica_map(self, scratch, m->start, 1, MICA_MAP_READ)) != 0)
		return r;
	const struct mica_elf64_ehdr *eh = (const struct mica_elf64_ehdr *)scratch;
	uint64_t text_off = 0, text_va = 0, text_len = 0;

	if (eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(struct mica_elf64_phdr) <=
	    MICA_PAGE_SIZE) {
		const struct mica_elf64_phdr *ph =
		    (const struct mica_elf64_phdr *)(scratch + eh->e_phoff);

		for (unsigned i = 0; i < eh->e_phnum; i++) {
			if (ph[i].p_type == MICA_PT_LOAD && (ph[i].p_flags & MICA_PF_X)) {
				text_off = ph[i].p_offset;
				text_va = ph[i].p_vaddr;
				text_len = ph[i].p_filesz;
				break;
			}
		}
	}
	(void)mica_unmap(self, scratch, 1, 0);
	/* The text must lie page-aligned in the module's frames, as the linker script puts it. */
	if (!text_len || text_off % MICA_PAGE_SIZE || text_va % MICA_PAGE_SIZE ||
	    text_off + text_len > m->size)
		return MICA_EINVAL;
	uint64_t pages = (text_len + MICA_PAGE_SIZE - 1) / MICA_PAGE_SIZE;

	if ((r = mica_map(as, text_va, m->start + text_off, pages, MICA_MAP_READ | MICA_MAP_EXEC)))
		return r;
	return mica_map(as, REMOTE_STACK_TOP - MICA_PAGE_SIZE, stack_frame, 1,
	                MICA_MAP_READ | MICA_MAP_WRITE);
}

long remote_start(mica_handle_t as, void (*entry)(uint64_t), uint64_t arg, unsigned priority)
{
	struct mica_thread_params p = {.entry = (uint64_t)entry,
	                               .stack_top = REMOTE_STACK_TOP,
	                               .arg = arg,
	                               .priority = priority,
	                               .pager = MICA_HANDLE_NONE,
	                               .supervisor = MICA_HANDLE_NONE};

	return mica_thread_create(as, &p);
}

long remote_destroy(mica_handle_t as)
{
	uint64_t frames[64];
	long r;

	while ((r = mica_aspace_destroy(as, frames, 64)) == 64)
		;
	if (r < 0)
		return r;
	return mica_handle_close(as);
}
