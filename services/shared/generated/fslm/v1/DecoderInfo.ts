// Original file: proto/fslm/v1/stage.proto


export interface DecoderInfo {
  'num_layers'?: (number);
  'num_key_value_heads'?: (number);
  'head_dim'?: (number);
  'vocab_size'?: (number);
  'eos_token_ids'?: (number)[];
  'bos_token_id'?: (number);
  'pad_token_id'?: (number);
  'dtype'?: (string);
  'max_position_embeddings'?: (number);
  'attention'?: (string);
  '_bos_token_id'?: "bos_token_id";
  '_pad_token_id'?: "pad_token_id";
}

export interface DecoderInfo__Output {
  'num_layers': (number);
  'num_key_value_heads': (number);
  'head_dim': (number);
  'vocab_size': (number);
  'eos_token_ids': (number)[];
  'bos_token_id'?: (number);
  'pad_token_id'?: (number);
  'dtype': (string);
  'max_position_embeddings': (number);
  'attention': (string);
  '_bos_token_id'?: "bos_token_id";
  '_pad_token_id'?: "pad_token_id";
}
