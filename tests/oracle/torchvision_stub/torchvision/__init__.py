"""A stand-in for torchvision, for tests/oracle/open_clip_ref.py only: the torchvision wheel's
C++ ops fail to register beside the CPU torch, and open_clip imports only these names (it uses
them for image preprocessing and ResNet towers, which the parity tests do not run)."""
