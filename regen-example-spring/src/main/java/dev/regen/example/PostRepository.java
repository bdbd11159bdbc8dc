package dev.regen.example;

import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.springframework.stereotype.Repository;

/** The posts, in memory: twelve to start with, editable. Thread-safe. */
@Repository
public class PostRepository {
    private final ConcurrentMap<Integer, Post> posts = new ConcurrentHashMap<>();

    public PostRepository() {
        Instant start = Instant.now();
        for (int id = 1; id <= 12; id++) {
            posts.put(
                    id,
                    new Post(
                            id,
                            "Post number " + id,
                            "This is post " + id + ". Its page is rendered once, then served from Regen's cache.",
                            start));
        }
    }

    public List<Post> all() {
        return posts.values().stream().sorted(Comparator.comparingInt(Post::id)).toList();
    }

    public Optional<Post> find(int id) {
        return Optional.ofNullable(posts.get(id));
    }

    /** Replaces title and body of post {@code id}; empty if there is no such post. */
    public Optional<Post> update(int id, String title, String body) {
        return Optional.ofNullable(posts.computeIfPresent(id, (k, old) -> new Post(id, title, body, Instant.now())));
    }
}
