package com.example.consumer;

import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RestController;

/** One page that counts its renders: cached by Regen, it renders once. */
@SpringBootApplication
@RestController
public class ConsumerApplication {
    private final AtomicInteger renders = new AtomicInteger();

    public static void main(String[] args) {
        SpringApplication.run(ConsumerApplication.class, args);
    }

    @GetMapping("/pages/{id}")
    ResponseEntity<String> page(@PathVariable("id") int id) {
        String html = "<!doctype html><title>Page " + id + "</title><p>render " + renders.incrementAndGet()
                + " at " + Instant.now() + "</p>";
        return ResponseEntity.ok().contentType(MediaType.TEXT_HTML).body(html);
    }
}
