package dev.regen;

import java.util.function.Function;

/**
 * A client request as an edge sees it.
 *
 * @param method  the request method, upper case
 * @param target  the request target as received (origin-form or absolute-form)
 * @param headers looks up the first value of a header by case-insensitive name; null when absent
 */
public record ClientRequest(String method, String target, Function<String, String> headers) {
    public String header(String name) {
        return headers.apply(name);
    }
}
