/* separation/sepnet_blob.S: the shipped separation model, built into libduet
 * byte for byte (`.incbin` of the file the Makefile passes as
 * DUET_BUILTIN_MODEL, models/sepnet.safetensors by default), read through
 * sepnet_builtin() in separation/sep_model.c. Read-only data: no state. */
    .section .rodata
    .balign 64
    .globl duet_sepnet_blob
    .type duet_sepnet_blob, @object
duet_sepnet_blob:
    .incbin DUET_BUILTIN_MODEL
duet_sepnet_blob_end:
    .size duet_sepnet_blob, duet_sepnet_blob_end - duet_sepnet_blob
    .balign 8
    .globl duet_sepnet_blob_size
    .type duet_sepnet_blob_size, @object
duet_sepnet_blob_size:
    .quad duet_sepnet_blob_end - duet_sepnet_blob
    .size duet_sepnet_blob_size, 8
    .section .note.GNU-stack,"",@progbits
