"""The names the train/eval mode analyses go by, in one place.

Code shows its intent through names: a method of ``nn.Module``, a loader named like a
validation set, a metric, an optimizer, a library's model class or factory. Every such
heuristic of the mode rules lives here, so that the analyses agree on them and a reader
finds them in one file.
"""

from __future__ import annotations

import re

# Methods of nn.Module that keep the mode: calling one marks the receiver as a model.
MODEL_METHODS = frozenset(
    {
        "parameters", "named_parameters", "buffers", "named_buffers", "to", "cuda", "cpu", "half",
        "float", "double", "bfloat16", "state_dict", "load_state_dict", "zero_grad", "apply",
        "requires_grad_", "register_forward_hook", "register_forward_pre_hook",
        "register_full_backward_hook", "named_modules", "modules", "children", "named_children",
        "share_memory", "type",
    }
)  # fmt: skip
# Methods of nn.Module that list its parts: `nn.Sequential(*list(net.children())[:-1])`
# is built from the parts of `net`.
PART_LISTS = frozenset({"children", "modules", "named_children", "named_modules"})
# Methods of nn.Module that change its weights.
WEIGHT_CHANGERS = frozenset({"load_state_dict", "apply", "zero_grad"})
# The methods that switch the mode.
MODE_SWITCHES = frozenset({"train", "eval"})
# Methods that return the module itself.
RETURNS_SELF = frozenset({"to", "cuda", "cpu", "half", "float", "double", "bfloat16", "train", "eval", "requires_grad_", "type"})
# Calling these on a value runs the model. (Not `predict`: Keras-style wrappers and
# pytorch-forecasting's models switch to eval themselves there.)
RUN_METHODS = frozenset({"forward", "generate"})

# Names that read the mode, or a flag standing for it.
MODE_WORD = re.compile(r"train|determin|infer|eval|grad_enabled|mc_dropout", re.IGNORECASE)
# A test that picks between training and evaluation: `if phase == "train":`.
PHASE_WORD = re.compile(r"phase|stage|split|(^|_)mode($|_)", re.IGNORECASE)
PHASE_STRING = re.compile(r"train|val|eval|test|dev|infer|predict", re.IGNORECASE)
# A loader of held-out data: a loop over it evaluates.
EVALUATION_DATA = re.compile(r"(^|_|\b)(val|valid|validation|test|dev|eval|evaluation)(_|\b|$|set|data|loader|dl)", re.IGNORECASE)
# Predictions or metrics computed under no_grad: the block evaluates.
METRIC_WORDS = re.compile(r"argmax|softmax|topk|sigmoid|acc|correct|metric|score|pred|loss|prob|eq", re.IGNORECASE)
# Inside a training loop, a forward pass not back-propagated that feeds one of these evaluates.
# (Not a loss or a prediction: a GAN's discriminator loss that is never back-propagated, or
# its detached predictions in the generator's step, are parts of a training step.)
LOOP_METRIC_WORDS = re.compile(r"argmax|topk|acc|correct|metric|score", re.IGNORECASE)
# Results taken out of torch (as NumPy arrays or Python lists): under no_grad, the outputs
# kept as data, as predictions or embeddings are.
EXPORTED_RESULTS = frozenset({"numpy", "tolist"})
# Results no gradient flows through.
UNTRACKED_RESULTS = frozenset({"detach", "item", "cpu", "numpy", "tolist"})
# Looking at these tells the shape of a result, which dropout does not change.
SHAPE_ATTRIBUTES = frozenset({"shape", "size", "dim", "ndim", "ndimension", "dtype", "device", "numel"})
# torch functions that make up a tensor (random numbers or constants), and the methods
# that move one to a device or type: a model run on such inputs is a smoke test.
SYNTHETIC_TENSORS = frozenset(
    {
        "randn", "rand", "randint", "zeros", "ones", "empty", "full", "randn_like", "rand_like",
        "randint_like", "zeros_like", "ones_like", "empty_like", "full_like",
    }
)  # fmt: skip
DEVICE_MOVES = frozenset({"to", "cuda", "cpu", "float", "half", "double", "bfloat16", "requires_grad_"})
# The receiver of `.step()` that takes a training step; the name of a model's parameters.
OPTIMISER_NAME = re.compile(r"optim|(^|_)opt($|_)", re.IGNORECASE)
PARAMETER_NAME = re.compile(r"param", re.IGNORECASE)

# A constructor argument that sets dropout: `dropout`, `attn_dropout`, `dropout_dim`,
# `drop_rate`, `attn_drop`, `drop_path_rate`, `drop_block`, `p_drop`; not `drop_last`.
DROPOUT_SETTING = re.compile(
    r"dropout|(^|_)drop(_(path|block|connect))?(_?(rate|prob|probability|ratio|p))?$", re.IGNORECASE
)
# Words by which a docstring or a comment says that an argument is not used on purpose
# (not "ignored if self.training is False", which says when a used one does nothing).
UNUSED_WORDS = re.compile(
    r"unused|(not used|ignored)(?!,?\s+(if|when|unless|in|during|while|for)\b)|deprecated|compatib|no effect"
    r"|placeholder|not supported|unsupported|kept for",
    re.IGNORECASE,
)

NO_GRAD = frozenset({"torch.no_grad", "torch.inference_mode", "torch.autograd.no_grad", "torch.autograd.grad_mode.no_grad"})
EXPORTS = {
    "torch.jit.trace": "torch.jit.trace",
    "torch.jit.trace_module": "torch.jit.trace_module",
    "torch.export.export": "torch.export.export",
    "torch._dynamo.export": "torch._dynamo.export",
    "torch.onnx.export": "torch.onnx.export",
}
# Functions that return a new module in training mode.
TRAIN_FACTORIES = re.compile(
    r"^(timm\.create_model|torchvision\.models\.[a-z_0-9]+(\.[a-z_0-9]+)?|transformers\.\w+\.from_config)$"
)
# Functions that build whatever a configuration names: a model, a tokenizer, a dataset.
CONFIGURED_FACTORIES = frozenset({"hydra.utils.instantiate", "hydra.utils.call"})
# Model classes of libraries: built directly, a model starts in training mode.
LIBRARY_MODELS = re.compile(
    r"^(transformers\.(\w+\.)*[A-Z]\w*(Model|For[A-Z]\w*)|timm\.models\.(\w+\.)*[A-Z]\w*"
    r"|torchvision\.models\.(\w+\.)*[A-Z]\w*)$"
)
# transformers' decoder-only families whose configs default every dropout to 0 and that
# hold no batch norm: built from a config, they compute the same in both modes.
DROPOUT_FREE_MODELS = re.compile(
    r"^transformers\.(\w+\.)*(Llama|Llama4|Mistral|Mixtral|Qwen2|Qwen2Moe|Qwen3|Qwen3Moe|Qwen3_5|Gemma|Gemma2|Gemma3"
    r"|Olmo|Olmo2|Olmo3|Cohere|Cohere2|Phi3|Granite|SmolLM3)(Model|For[A-Z]\w*)$"
)
# Libraries whose `from_pretrained` returns a model in eval mode.
PRETRAINED_LOADER = re.compile(r"\.from_pretrained$")
EVAL_MODE_LOADERS = ("transformers.", "diffusers.")
# External bases known to build layers whatever the subclass adds.
MODEL_LIBRARIES = ("transformers.", "timm.", "torchvision.", "diffusers.", "torch.nn.")
# Wrappers that share the mode of the model they wrap.
WRAPPERS = frozenset(
    {
        "torch.nn.DataParallel", "torch.nn.parallel.DataParallel", "torch.nn.parallel.DistributedDataParallel",
        "torch.compile",
    }
)  # fmt: skip
# Frameworks that switch the mode around the methods of their subclasses.
MODE_FRAMEWORK_BASES = ("lightning", "pytorch_lightning", "transformers.Trainer", "transformers.trainer")
# External functions that only read a model.
# Functions that copy an object: a copied model is another, in the mode of the first.
COPIES = frozenset({"copy.deepcopy", "copy.copy"})
READ_ONLY_FUNCTIONS = frozenset(
    {
        "print", "len", "isinstance", "str", "repr", "id", "type", "hasattr", "getattr", "vars",
        "torch.save", "copy.deepcopy", "sum", "format", "logging.info", "logger.info",
    }
)  # fmt: skip
