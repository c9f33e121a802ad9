/* The classic VAE of PyTorch's examples/vae/main.py, line for line, on Fashion-MNIST: images of 784
 * pixels -> 400 -> (mu, logvar) of 20 -> 400 -> 784, binary cross-entropy summed over pixels plus the
 * KL divergence, Adam at 1e-3. It reads the IDX files of Debian's dataset-fashion-mnist as installed
 * (gzipped), or of any folder holding MNIST-style files. examples/bench/vae_mnist_torch.py is its twin.
 *
 *   build/vae_mnist [--data DIR] [--epochs 10] [--batch 128] [--seed 1] [--limit N]
 */
#include <mache.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_DATA "/usr/share/datasets/fashion-mnist"
#define HIDDEN 400
#define LATENT 20

typedef struct { mc_linear_layer fc1, fc21, fc22, fc3, fc4; } vae;

static void vae_init(vae *m, mc_params *ps, int pixels, mc_rng *rng)
{
    mc_linear_init(&m->fc1, ps, "fc1", pixels, HIDDEN, 1, rng);
    mc_linear_init(&m->fc21, ps, "fc21", HIDDEN, LATENT, 1, rng);
    mc_linear_init(&m->fc22, ps, "fc22", HIDDEN, LATENT, 1, rng);
    mc_linear_init(&m->fc3, ps, "fc3", LATENT, HIDDEN, 1, rng);
    mc_linear_init(&m->fc4, ps, "fc4", HIDDEN, pixels, 1, rng);
}

static void encode(vae *m, mc_tensor *x, mc_tensor **mu, mc_tensor **logvar)
{
    mc_tensor *h1 = mc_relu(mc_linear(x, &m->fc1));     /* (B,400) */
    *mu = mc_linear(h1, &m->fc21);                      /* (B,20) */
    *logvar = mc_linear(h1, &m->fc22);
}

static mc_tensor *reparameterize(mc_tensor *mu, mc_tensor *logvar, mc_rng *rng)
{
    return mc_reparameterize(mu, logvar, mc_randn(rng, mu->ndim, mu->shape));   /* mu + eps * exp(logvar / 2) */
}

static mc_tensor *decode(vae *m, mc_tensor *z)
{
    mc_tensor *h3 = mc_relu(mc_linear(z, &m->fc3));     /* (B,400) */
    return mc_sigmoid(mc_linear(h3, &m->fc4));          /* (B,784) */
}

/* Reconstruction + KL divergence, both summed over the batch, as the PyTorch example has it. */
static mc_tensor *loss_function(mc_tensor *recon_x, mc_tensor *x, mc_tensor *mu, mc_tensor *logvar)
{
    mc_tensor *bce = mc_sum(mc_binary_cross_entropy(recon_x, x));
    mc_tensor *kld = mc_scale(mc_kld_gaussian(mu, logvar), (float)mu->shape[0]);   /* the library's is a batch mean */
    return mc_add(bce, kld);
}

/* One pass over the images in the order idx gives, in batches; returns the mean loss per image. With
 * train set, each batch also takes an Adam step. */
static double run_epoch(vae *m, mc_params *ps, const mc_adam *adam, const mc_idx *images, const int *idx, int n,
                        int batch, int train, mc_rng *rng)
{
    int pixels = images->dims[1] * images->dims[2];
    double total = 0;
    int prev = mc_set_grad_enabled(train);
    for (int start = 0; start < n; start += batch) {
        int B = n - start < batch ? n - start : batch;   /* the last batch may be short, as in DataLoader */
        mc_tensor *x = mc_new(B, pixels);                  /* (B,784) in [0, 1], as ToTensor() gives */
        for (int b = 0; b < B; b++) {
            const uint8_t *image = images->data + (size_t)idx[start + b] * pixels;
            for (int p = 0; p < pixels; p++) x->data[(size_t)b * pixels + p] = image[p] / 255.0f;
        }
        mc_tensor *mu, *logvar;
        encode(m, x, &mu, &logvar);
        mc_tensor *recon = decode(m, reparameterize(mu, logvar, rng));
        mc_tensor *loss = loss_function(recon, x, mu, logvar);
        total += loss->data[0];
        if (train) mc_adam_backward(adam, ps, loss);   /* zero_grad, backward, step */
        mc_step_end();
    }
    mc_set_grad_enabled(prev);
    return total / n;
}

/* DIR/NAME or DIR/NAME.gz, whichever exists: (N,H,W) images. */
static int load_images(const char *dir, const char *name, mc_idx *images, char *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) snprintf(path, sizeof path, "%s/%s.gz", dir, name);
    else fclose(f);
    f = fopen(path, "rb");
    if (!f) {
        mc_set_err(err, "no %s[.gz] in %s (%s); install Debian's package with `apt-get install dataset-fashion-mnist`, "
                   "or give --data DIR holding MNIST-style IDX files", name, dir, strerror(errno));
        return 1;
    }
    fclose(f);
    if (mc_idx_read(path, images, err)) return 1;
    if (images->ndim != 3) {
        mc_set_err(err, "%s: %d dimensions; images are (N,H,W)", path, images->ndim);
        mc_idx_free(images);
        return 1;
    }
    return 0;
}

static int whole_number(const char *flag, const char *s, int min, int *out)
{
    char *end;
    errno = 0;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || *end || end == s || errno || v < min || v > 1000000000) {
        fprintf(stderr, "vae_mnist: %s needs a whole number >= %d (got '%s')\n", flag, min, s ? s : "");
        return 0;
    }
    *out = (int)v;
    return 1;
}

/* The CPU time of the process (all threads): on a shared machine a fairer measure than the wall clock. */
static double cpu_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv)
{
    const char *data = DEFAULT_DATA;
    int epochs = 10, batch = 128, seed = 1, limit = 0;
    for (int i = 1; i < argc; i += 2) {       /* every option but --help takes a value */
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int ok = 1;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("usage: vae_mnist [--data DIR] [--epochs N] [--batch B] [--seed S] [--limit N]\n"
                   "  The VAE of PyTorch's examples/vae (784-400-20) on MNIST-style IDX files: DIR holds\n"
                   "  train-images-idx3-ubyte and t10k-images-idx3-ubyte (or .gz); default %s\n"
                   "  (apt-get install dataset-fashion-mnist). --epochs 10, --batch 128, --seed 1;\n"
                   "  --limit N uses only the first N training and N test images.\n", DEFAULT_DATA);
            return 0;
        } else if (!strcmp(a, "--data") && v) data = v;
        else if (!strcmp(a, "--epochs")) ok = whole_number(a, v, 1, &epochs);
        else if (!strcmp(a, "--batch")) ok = whole_number(a, v, 1, &batch);
        else if (!strcmp(a, "--seed")) ok = whole_number(a, v, 0, &seed);
        else if (!strcmp(a, "--limit")) ok = whole_number(a, v, 1, &limit);
        else {
            fprintf(stderr, "vae_mnist: unknown option '%s' (or a missing value; see --help)\n", a);
            return 1;
        }
        if (!ok) return 1;
    }

    char err[MC_ERRLEN];
    mc_idx train, test;
    if (load_images(data, "train-images-idx3-ubyte", &train, err) || load_images(data, "t10k-images-idx3-ubyte", &test, err)) {
        fprintf(stderr, "vae_mnist: %s\n", err);
        return 1;
    }
    if (test.dims[1] != train.dims[1] || test.dims[2] != train.dims[2]) {
        fprintf(stderr, "vae_mnist: %s: test images are %dx%d, training images %dx%d\n", data, test.dims[1],
                test.dims[2], train.dims[1], train.dims[2]);
        return 1;
    }
    int ntrain = limit && limit < train.dims[0] ? limit : train.dims[0];
    int ntest = limit && limit < test.dims[0] ? limit : test.dims[0];
    int pixels = train.dims[1] * train.dims[2];
    printf("vae_mnist: %d training and %d test images of %dx%d from %s; %d-%d-%d, batch %d, Adam 1e-3, seed %d\n",
           ntrain, ntest, train.dims[1], train.dims[2], data, pixels, HIDDEN, LATENT, batch, seed);

    mc_rng rng;
    mc_rng_seed(&rng, (uint64_t)seed);
    mc_params ps = {0};
    vae model;
    vae_init(&model, &ps, pixels, &rng);
    mc_adam adam = mc_adam_default(1e-3f);
    int *order = mc_malloc((size_t)(ntrain > ntest ? ntrain : ntest) * sizeof *order);
    for (int epoch = 1; epoch <= epochs; epoch++) {
        double t0 = mc_now_seconds(), c0 = cpu_seconds();
        for (int k = 0; k < ntrain; k++) order[k] = k;
        mc_rng_shuffle(&rng, order, ntrain);
        double train_loss = run_epoch(&model, &ps, &adam, &train, order, ntrain, batch, 1, &rng);
        double t1 = mc_now_seconds(), c1 = cpu_seconds();
        for (int k = 0; k < ntest; k++) order[k] = k;
        double test_loss = run_epoch(&model, &ps, &adam, &test, order, ntest, batch, 0, &rng);
        printf("====> Epoch: %d Average loss: %.4f  Test set loss: %.4f  (train %.2f s, cpu %.2f s; test %.2f s)\n",
               epoch, train_loss, test_loss, t1 - t0, c1 - c0, mc_now_seconds() - t1);
        fflush(stdout);
    }
    free(order);
    mc_params_free(&ps);
    mc_idx_free(&train);
    mc_idx_free(&test);
    return 0;
}
