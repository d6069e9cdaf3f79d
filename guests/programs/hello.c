/* hello: the smallest end-to-end check of the machine: console, report list and exit code.
 *   args[0]  exit code (so a test can check an arbitrary one)
 * Console "hello from guest\n"; reports 0xC0FFEE; exits args[0]. */
#include "bootinfo.h"
#include "rt.h"

int main(const struct jvfio_boot_info *boot)
{
    print("hello from guest\n");
    report(0xC0FFEE);
    return (int)(uint32_t)boot->args[0];
}
