package dev.regen.store;

/** A fault of the backing storage engine (I/O, corruption, connection). Unchecked. */
public class StoreException extends RuntimeException {
    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }

    public StoreException(String message) {
        super(message);
    }
}
