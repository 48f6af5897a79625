// Package settings layers the device's settings. They come from three
// places, strongest first:
//
//  1. command-line flags;
//  2. the kernel command line (/proc/cmdline): sztp.<flag-name>=value, with
//     sztp.url= as an alias of bootstrap-url and the bare word sztp.disable;
//     trust inputs (KernelRefused) are refused there with a warning (C4);
//  3. the config file (--config, default /etc/sztp/config.yaml): a strict
//     YAML subset of "key: value" lines whose keys are the long flag names.
//
// The kernel command line beats the config file because it is the per-boot
// override (set by a PXE/iPXE menu or a lab), while the config file is baked
// into the image. List values (bootstrap-url, server-trust-anchor, ...) from
// one layer replace, not extend, those of a weaker one.
//
// Load reads the two files a command's --config and --cmdline-file name;
// Layers.Apply sets every flag the command line left alone. Every error is a
// usage.Error (exit 2). Example writes a config file that documents every
// key, commented out.
package settings
