package dev.regen;

import dev.regen.internal.Header;
import java.util.List;

/** Reads what a fake origin received. */
final class HttpFieldsTestSupport {
    private HttpFieldsTestSupport() {}

    static String first(List<Header> headers, String name) {
        return dev.regen.internal.http.HttpFields.first(headers, name);
    }

    static boolean has(List<Header> headers, String name, String value) {
        for (Header h : headers) {
            if (h.is(name) && h.value().equals(value)) {
                return true;
            }
        }
        return false;
    }
}
