package io.jvfio.sys.libc;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.sys.testing.CProbe;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Every system call number Libc passes to syscall(2), compared with what gcc reads in sys/syscall.h. */
class SyscallNumbersTest {
    @Test
    void everySyscallNumberIsTheHeadersOne() throws Exception {
        List<Field> numbers = Arrays.stream(Libc.class.getDeclaredFields())
                .filter(f -> f.getName().startsWith("SYS_") && Modifier.isStatic(f.getModifiers()))
                .toList();
        Map<String, Long> java = new LinkedHashMap<>();
        for (Field field : numbers) {
            java.put(field.getName(), field.getLong(null));
        }
        String prints = java.keySet().stream()
                .map(name -> "    printf(\"" + name + " %ld\\n\", (long) " + name + ");")
                .collect(Collectors.joining("\n"));

        Map<String, Long> headers = CProbe.run(
                "#include <stdio.h>\n#include <sys/syscall.h>\nint main(void) {\n" + prints + "\n    return 0;\n}\n");

        assertThat(java).hasSizeGreaterThan(30).isEqualTo(headers);
    }

    @Test
    void pinnedNumbersOfX8664() {
        assertThat(Libc.SYS_read).isZero();
        assertThat(Libc.SYS_ioctl).isEqualTo(16);
        assertThat(Libc.SYS_memfd_create).isEqualTo(319);
    }
}
