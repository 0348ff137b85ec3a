// The decision scores of a few requests, from llama.cpp itself: built for aarch64 (and run
// under qemu-user, or on a Pi) by tools/check-arm64, which compares them with this
// machine's. It evaluates what the appliance's engine evaluates: the tool prompt once (its
// state kept and restored per request, as appliance/caller/engine.py does), then each
// request's batch, and prints the logits of the asked tokens at the asked positions.
//
// stdin:  line 1: the prompt's token ids; then one line per request:
//         "<token ids> ; <output positions> ; <candidate token ids>"
// stdout: one line per request and position: the candidates' logits, space-separated.
#include "llama.h"

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

static std::vector<int> ints(const std::string & text) {
    std::vector<int> out;
    std::istringstream in(text);
    for (int v; in >> v;) out.push_back(v);
    return out;
}

static void decode(llama_context * ctx, llama_batch & batch, const std::vector<int> & tokens,
                   int & n_past, const std::vector<int> & outputs, int n_batch) {
    for (size_t start = 0; start < tokens.size(); start += n_batch) {
        batch.n_tokens = 0;
        for (size_t j = start; j < tokens.size() && j < start + n_batch; ++j) {
            const int i = batch.n_tokens++;
            batch.token[i] = tokens[j];
            batch.pos[i] = n_past + (int) (j - start);
            batch.n_seq_id[i] = 1;
            batch.seq_id[i][0] = 0;
            batch.logits[i] = 0;
            for (int o : outputs) batch.logits[i] |= (o == (int) j);
        }
        if (llama_decode(ctx, batch) != 0) { std::fprintf(stderr, "llama_decode failed\n"); std::exit(1); }
        n_past += batch.n_tokens;
    }
}

int main(int argc, char ** argv) {
    if (argc != 3) { std::fprintf(stderr, "usage: %s MODEL.gguf THREADS < requests\n", argv[0]); return 2; }
    const int n_batch = 32;
    llama_backend_init();
    llama_model_params mp = llama_model_default_params();
    mp.use_extra_bufts = false;  // the appliance's default: no repacked weights
    llama_model * model = llama_model_load_from_file(argv[1], mp);
    if (!model) { std::fprintf(stderr, "cannot load %s\n", argv[1]); return 1; }
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = 2048;
    cp.n_batch = cp.n_ubatch = n_batch;
    cp.n_threads = cp.n_threads_batch = std::atoi(argv[2]);
    cp.swa_full = false;
    llama_context * ctx = llama_init_from_model(model, cp);
    if (!ctx) { std::fprintf(stderr, "cannot make a context\n"); return 1; }
    llama_batch batch = llama_batch_init(n_batch, 0, 1);
    const int n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));

    std::string line;
    std::getline(std::cin, line);
    const std::vector<int> prefix = ints(line);
    int n_past = 0;
    decode(ctx, batch, prefix, n_past, {}, n_batch);
    std::vector<uint8_t> state(llama_state_get_size(ctx));
    llama_state_get_data(ctx, state.data(), state.size());
    const int after_prefix = n_past;

    while (std::getline(std::cin, line)) {
        const size_t a = line.find(';'), b = line.find(';', a + 1);
        if (a == std::string::npos || b == std::string::npos) continue;
        const std::vector<int> tokens = ints(line.substr(0, a));
        const std::vector<int> outputs = ints(line.substr(a + 1, b - a - 1));
        const std::vector<int> cands = ints(line.substr(b + 1));
        llama_state_set_data(ctx, state.data(), state.size());
        n_past = after_prefix;
        decode(ctx, batch, tokens, n_past, outputs, n_batch);
        for (int o : outputs) {
            // the batch holding position o was the last one only if o is in the last chunk
            const int last_start = (int) ((tokens.size() - 1) / n_batch * n_batch);
            if (o < last_start) { std::fprintf(stderr, "output %d is not in the last batch\n", o); return 1; }
            const float * logits = llama_get_logits_ith(ctx, o - last_start);
            for (size_t k = 0; k < cands.size(); ++k) {
                if (cands[k] < 0 || cands[k] >= n_vocab) { std::fprintf(stderr, "bad token id\n"); return 1; }
                std::printf("%s%.6f", k ? " " : "", logits[cands[k]]);
            }
            std::printf("\n");
        }
        std::fflush(stdout);
    }
    llama_batch_free(batch);
    llama_free(ctx);
    llama_model_free(model);
    return 0;
}
